package io.sparkquant.jobs;

import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.ops.calib.RangeMethod;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The calibrate job: load the dataset, run {@link Calibrator}, write the table and its manifest. Both files are
 * written to hidden temporary names and renamed only after the whole calibration succeeded (manifest first, table
 * last), so a failed run leaves no table behind.
 */
public final class CalibrateJob {

  private static final Logger LOG = LoggerFactory.getLogger(CalibrateJob.class);

  /**
   * Resolved options (recorded in the manifest).
   *
   * @param method range method name; {@code percentile} is only used by "percentile"
   */
  public record Options(String model, String data, String out, String method, Double percentile, long rows,
      double fraction, long seed, int partitions, int batchSize, int bins, boolean overwrite) {

    public Options {
      RangeMethod.parse(method, percentile);
    }

    public RangeMethod rangeMethod() {
      return RangeMethod.parse(method, percentile);
    }
  }

  public record Result(Calibrator.Run run, String tablePath, String manifestPath, long totalMillis) {}

  private CalibrateJob() {}

  /** The manifest written next to {@code table}: {@code x.json -> x.manifest.json}. */
  public static String manifestPath(String table) {
    String base = table.endsWith(".json") ? table.substring(0, table.length() - 5) : table;
    return base + ".manifest.json";
  }

  /** Fails (IllegalArgumentException) if {@code out} exists and not overwrite, or is a directory. */
  static void checkWritable(String out, boolean overwrite) {
    try {
      Path p = new Path(out);
      FileSystem fs = p.getFileSystem(new Configuration());
      if (fs.exists(p)) {
        if (fs.getFileStatus(p).isDirectory()) {
          throw new IllegalArgumentException("--out " + out + " is a directory; give the table's file name");
        }
        if (!overwrite) {
          throw new IllegalArgumentException("--out " + out + " already exists; choose a new path or pass "
              + "--overwrite to replace it");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot check --out " + out, e);
    }
  }

  public static Result run(SparkSession spark, Options o) {
    long t0 = System.nanoTime();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    byte[] modelBytes = readAll(conf, o.model());
    TensorDataset dataset = TensorDatasets.load(spark, o.data());
    LOG.info("calibrate: model {} ({} bytes), data {} (shape {}), method {}", o.model(), modelBytes.length,
        o.data(), dataset.info().shapeString(), o.rangeMethod());
    Calibrator calibrator = new Calibrator()
        .setModel(modelBytes)
        .setInputShape(dataset.info().shape())
        .setMethod(o.rangeMethod())
        .setSampleRows(o.rows())
        .setSampleFraction(o.fraction())
        .setSeed(o.seed())
        .setPartitions(o.partitions())
        .setBatchSize(o.batchSize())
        .setHistogramBins(o.bins());
    Calibrator.Run run = calibrator.fitRun(dataset.rows());
    long totalMillis = (System.nanoTime() - t0) / 1_000_000;

    Manifest manifest = new Manifest("calibrate", o)
        .spark(spark)
        .input("model", o.model(), 0)
        .input("data", o.data(), run.rows())
        .duration("sampling", run.samplingMillis())
        .duration("minMaxPass", run.minMaxMillis())
        .duration("histogramPass", run.histogramMillis())
        .duration("total", totalMillis)
        .put("calibration", Map.of("rows", run.rows(), "batches", run.batches(), "partitions", run.partitions(),
            "tensors", run.table().tensors().size()));
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put(manifestPath(o.out()), manifest.toJsonBytes());
    files.put(o.out(), run.table().toJson().getBytes(StandardCharsets.UTF_8));
    writeAtomically(conf, files, o.overwrite());
    LOG.info("calibration table written to {} in {} ms", o.out(), totalMillis);
    return new Result(run, o.out(), manifestPath(o.out()), totalMillis);
  }

  private static byte[] readAll(Configuration conf, String path) {
    try {
      Path p = new Path(path);
      try (InputStream in = p.getFileSystem(conf).open(p)) {
        return in.readAllBytes();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read --model " + path, e);
    }
  }

  /** The file system of {@code p}; for local paths the raw one, which writes no .crc side files. */
  private static FileSystem fileSystem(Path p, Configuration conf) throws IOException {
    FileSystem fs = p.getFileSystem(conf);
    return fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
  }

  /** Writes every file under a hidden temporary name, then renames them in order. */
  static void writeAtomically(Configuration conf, Map<String, byte[]> files, boolean overwrite) {
    Map<Path, Path> renames = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        Path target = new Path(f.getKey());
        FileSystem fs = fileSystem(target, conf);
        Path parent = target.getParent() == null ? new Path(".") : target.getParent();
        fs.mkdirs(parent);
        Path tmp = new Path(parent, "." + target.getName() + ".tmp-" + UUID.randomUUID());
        try (OutputStream out = fs.create(tmp, false)) {
          out.write(f.getValue());
        }
        renames.put(tmp, target);
      }
      for (Map.Entry<Path, Path> r : renames.entrySet()) {
        FileSystem fs = fileSystem(r.getValue(), conf);
        if (fs.exists(r.getValue())) {
          if (!overwrite) {
            throw new IllegalStateException(r.getValue() + " appeared while the job ran; not replacing it");
          }
          fs.delete(r.getValue(), false);
        }
        if (!fs.rename(r.getKey(), r.getValue())) {
          throw new IOException("rename " + r.getKey() + " -> " + r.getValue() + " returned false");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + files.keySet(), e);
    } finally {
      for (Path tmp : renames.keySet()) {
        try {
          fileSystem(tmp, conf).delete(tmp, false);
        } catch (IOException e) {
          LOG.warn("Cannot delete temporary file {}", tmp, e);
        }
      }
    }
  }
}
