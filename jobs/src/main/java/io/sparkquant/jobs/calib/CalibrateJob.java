package io.sparkquant.jobs.calib;

import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.output.OutputFiles;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.graph.Dl4jImporter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The calibrate job: load the dataset, run {@link Calibrator}, write the table and its manifest. Both files are
 * written with {@link OutputFiles} and renamed only after the whole calibration succeeded (manifest first, table
 * last), so a failed run leaves no table behind. Paths are any Hadoop URIs.
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

  public static Result run(SparkSession spark, Options o) {
    long t0 = System.nanoTime();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    byte[] modelBytes = HadoopFiles.readAllBytes(conf, o.model());
    Dl4jImporter.load(modelBytes, o.model()); // a damaged zip is refused by its name before any Spark work
    TensorDataset dataset = TensorDatasets.loadFeatures(spark, o.data(), null); // labels are not needed
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
        .put("calibration", Map.of("rows", run.rows(), "partitions", run.partitions(),
            "tensors", run.table().tensors().size()));
    try (OutputFiles out = OutputFiles.create(conf, o.overwrite())) {
      out.write(manifestPath(o.out()), manifest.toJsonBytes());
      out.write(o.out(), run.table().toJson().getBytes(StandardCharsets.UTF_8)); // last: the table means complete
      out.commit();
    }
    LOG.info("calibration table written to {} in {} ms", o.out(), totalMillis);
    return new Result(run, o.out(), manifestPath(o.out()), totalMillis);
  }
}
