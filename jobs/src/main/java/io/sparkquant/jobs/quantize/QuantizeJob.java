package io.sparkquant.jobs.quantize;

import io.sparkquant.data.Batch;
import io.sparkquant.data.Batches;
import io.sparkquant.data.Layout;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.calib.CalibrateJob;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.output.OutputFiles;
import io.sparkquant.jobs.output.ProjectVersion;
import io.sparkquant.jobs.spark.ExecutorCache;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.export.ExportMode;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.Quantizer;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.ModelMetadata;
import java.time.Instant;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.api.Model;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The quantize job: read the DL4J model, take activation ranges from a calibration table (in memory or a file) or
 * calibrate on a dataset with the distributed {@link Calibrator} (min/max unless told otherwise), export with
 * {@link Quantizer}, and write the .tflite and its model card ({@code <out>.json}) atomically. Every file goes
 * through Hadoop's FileSystem.
 *
 * <p>The input shape comes from, in order: the options, the shape recorded in the model ({@link ModelMetadata}),
 * the calibration dataset, the calibration table; a model that needs one and has none anywhere is rejected with
 * {@link Dl4jImporter.InputShapeRequiredException}.
 */
public final class QuantizeJob {

  private static final Logger LOG = LoggerFactory.getLogger(QuantizeJob.class);

  private QuantizeJob() {}

  /**
   * Resolved options.
   *
   * @param inputShape HWC or [F], or null to find it (see the class comment)
   * @param floatLayers graph nodes kept in float; empty for none
   * @param keepFloat keep the N most sensitive weight layers in float, ranked on the calibration sample (needs
   *     {@code calibrationData})
   * @param calibrationTable a table file to read the ranges from; with an in-memory table, only where it was
   *     written (for the card), or null
   * @param calibrationData a Parquet tensor dataset to calibrate on, or null
   * @param calibrationMethod range method of that calibration ({@link RangeMethod#parse}); null = minmax
   * @param calibrationRows rows of {@code calibrationData} to calibrate on (the smallest seeded id hashes)
   * @param seed seed of the calibration sample
   * @param perTensorWeights int8 only: one weight scale per conv/depthwise tensor instead of per channel
   * @param overwrite replace an existing .tflite and model card; false makes them an error
   */
  public record Options(String model, String out, ExportMode mode, ExportOptions.IoType io, int[] inputShape,
      Set<String> floatLayers, int keepFloat, String calibrationTable, String calibrationData,
      String calibrationMethod, int calibrationRows, long seed, int batchSize, boolean perTensorWeights,
      boolean overwrite) {

    public Options {
      if (model == null || out == null || mode == null) {
        throw new IllegalArgumentException("model, out and mode are required");
      }
      io = io == null ? ExportOptions.IoType.FLOAT : io;
      inputShape = inputShape == null ? null : inputShape.clone();
      floatLayers = floatLayers == null ? Set.of() : Set.copyOf(floatLayers);
      calibrationMethod = calibrationMethod == null ? RangeMethod.minMax().name() : calibrationMethod;
      RangeMethod.parse(calibrationMethod, null);
      if (calibrationTable != null && calibrationData != null) {
        throw new IllegalArgumentException("give either a calibration table or calibration data, not both");
      }
      if (keepFloat > 0 && calibrationData == null) {
        throw new IllegalArgumentException("keep-float ranks layers on rows of the calibration data; none given");
      }
      if (calibrationRows < 1 || batchSize < 1) {
        throw new IllegalArgumentException("calibration rows and batch size must be >= 1, got " + calibrationRows
            + " and " + batchSize);
      }
      if (perTensorWeights && mode != ExportMode.INT8) {
        throw new IllegalArgumentException("per-tensor weights are only valid with mode int8, got mode "
            + mode.cliName());
      }
    }

    /** Export options only: float32, float16 and dynamic need no calibration. */
    public static Options of(String model, String out, ExportMode mode) {
      return new Options(model, out, mode, null, null, null, 0, null, null, null, 1000, 0,
          Calibrator.DEFAULT_BATCH_SIZE, false, false);
    }

    public Options withCalibrationTable(String table) {
      return new Options(model, out, mode, io, inputShape, floatLayers, keepFloat, table, calibrationData,
          calibrationMethod, calibrationRows, seed, batchSize, perTensorWeights, overwrite);
    }

    public Options withOverwrite(boolean replace) {
      return new Options(model, out, mode, io, inputShape, floatLayers, keepFloat, calibrationTable,
          calibrationData, calibrationMethod, calibrationRows, seed, batchSize, perTensorWeights, replace);
    }
  }

  /**
   * What the job did.
   *
   * @param calibration the distributed calibration run when the job calibrated, else null
   */
  public record Result(String tflitePath, String cardPath, Quantizer.Result export, Calibrator.Run calibration,
      long totalMillis) {}

  /** The model card next to {@code tflite}: {@code model.tflite -> model.json}, {@code x.bin -> x.bin.json}. */
  public static String cardPath(String tflite) {
    Path p = new Path(tflite);
    String name = p.getName();
    String base = name.endsWith(".tflite") ? name.substring(0, name.length() - ".tflite".length()) : name;
    return new Path(p.getParent(), base + ".json").toString();
  }

  /** Reads ranges from {@code options.calibrationTable()} or calibrates on {@code options.calibrationData()}. */
  public static Result run(SparkSession spark, Options options) {
    return run(spark, options, null);
  }

  /**
   * Runs the job.
   *
   * @param spark needed only to calibrate on {@code calibrationData}; may be null otherwise
   * @param table ranges already in memory (e.g. from {@link CalibrateJob}), or null to read or compute them
   */
  public static Result run(SparkSession spark, Options o, CalibrationTable table) {
    long t0 = System.nanoTime();
    if (table != null && o.calibrationData() != null) {
      throw new IllegalArgumentException("give either a calibration table or calibration data, not both");
    }
    Configuration conf = spark != null ? spark.sparkContext().hadoopConfiguration() : new Configuration();
    byte[] modelBytes = HadoopFiles.readAllBytes(conf, o.model());
    ModelMetadata recorded = ModelMetadata.read(modelBytes).orElse(null);
    Model dl4j = Dl4jImporter.load(modelBytes, o.model());
    if (table == null && o.calibrationTable() != null && o.mode().needsRanges()) {
      String json = HadoopFiles.readString(conf, o.calibrationTable());
      try {
        table = CalibrationTable.fromJson(json);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(o.calibrationTable() + ": " + e.getMessage(), e);
      }
    }
    TensorDataset data = null;
    if (o.calibrationData() != null && o.mode().needsRanges()) {
      if (spark == null) {
        throw new IllegalArgumentException("calibrating on " + o.calibrationData() + " needs a Spark session");
      }
      data = TensorDatasets.loadFeatures(spark, o.calibrationData(), null); // labels are not needed
    }
    int[] shape = firstKnown(o.inputShape(), recorded == null ? null : recorded.inputShape(),
        data == null ? null : data.info().shape(), table == null ? null : table.inputShape());
    Graph graph = Dl4jImporter.importModel(dl4j, shape);
    LOG.info("Imported {} ({} nodes) from {}, input shape {}", graph, graph.nodes().size(), o.model(),
        Arrays.toString(graph.input().shape()));

    if (table != null && o.calibrationTable() != null
        && !table.checkComputedOn(graph.fingerprint(), o.calibrationTable(), o.model())) {
      LOG.warn("Calibration table {} records no model fingerprint (written by an older SparkQuant): cannot check "
          + "that it was computed on {}", o.calibrationTable(), o.model());
    }
    Calibrator.Run calibration = null;
    Iterator<Quantizer.InputBatch> rankingRows = null;
    ActivationRanges ranges = null;
    if (data != null) {
      Calibrator calibrator = new Calibrator()
          .setModel(modelBytes)
          .setInputShape(shape)
          .setMethod(RangeMethod.parse(o.calibrationMethod(), null))
          .setSampleRows(o.calibrationRows())
          .setSeed(o.seed())
          .setBatchSize(o.batchSize());
      calibration = calibrator.fitRun(data.rows());
      table = calibration.table();
      if (o.keepFloat() > 0) {
        rankingRows = batches(Batches.batchIterator(calibrator.sample(data.rows()).toLocalIterator(), data.info(),
            o.batchSize(), Layout.FLAT));
      }
    }
    if (o.mode().needsRanges()) {
      if (table == null) {
        throw new IllegalArgumentException("mode " + o.mode().cliName() + " needs activation ranges: give a "
            + "calibration table or calibration data");
      }
      ranges = tableRanges(graph, table, o);
    }

    Map<String, Object> provenance = new LinkedHashMap<>();
    provenance.put("sourceModel", HadoopFiles.qualified(conf, o.model()));
    provenance.put("calibrationData", o.calibrationData());
    provenance.put("calibrationRows", calibration == null ? null : o.calibrationRows());
    provenance.put("calibrationMethod", table == null ? null : table.method().name());
    provenance.put("calibrationTable", o.calibrationTable() == null ? null
        : HadoopFiles.qualified(conf, o.calibrationTable()));
    provenance.put("inputShape", Arrays.copyOfRange(graph.input().shape(), 1, graph.input().shape().length));
    List<String> classNames = recorded != null && !recorded.classNames().isEmpty() ? recorded.classNames()
        : data != null ? data.info().classNames() : null;
    if (classNames != null && !classNames.isEmpty()) {
      provenance.put("classNames", classNames);
    }
    provenance.put("createdUtc", Instant.now().toString());
    Quantizer.Config config = new Quantizer.Config(o.mode(), o.io(), o.floatLayers(), o.keepFloat(),
        ExecutorCache.sha256(modelBytes), ProjectVersion.get(), o.perTensorWeights());
    Quantizer.Result export = Quantizer.quantize(graph, ranges, config, rankingRows, provenance);

    // Card first, model last: a failed run leaves no .tflite that looks complete.
    String card = cardPath(o.out());
    try (OutputFiles out = OutputFiles.create(conf, o.overwrite())) {
      out.write(card, export.cardJson());
      out.write(o.out(), export.tflite());
      out.commit();
    }
    long totalMillis = (System.nanoTime() - t0) / 1_000_000;
    LOG.info("Wrote {} ({} bytes, {} of float32) and {} in {} ms", o.out(), export.tflite().length,
        String.format(java.util.Locale.ROOT, "%.3f", export.tflite().length / (double) export.float32SizeBytes()),
        card, totalMillis);
    return new Result(o.out(), card, export, calibration, totalMillis);
  }

  /** The table's ranges; it must cover every graph tensor (a table from another model is rejected). */
  private static ActivationRanges tableRanges(Graph graph, CalibrationTable table, Options o) {
    List<String> missing = graph.tensors().stream().map(t -> t.name())
        .filter(n -> !table.tensors().containsKey(n)).toList();
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("calibration table " + (o.calibrationTable() == null ? ""
          : o.calibrationTable() + " ") + "has no range for tensors " + missing + " of " + o.model()
          + "; it covers " + table.tensors().keySet() + " (calibrate this model again)");
    }
    LOG.info("Ranges of {} tensors from the calibration table (method {})", table.tensors().size(),
        table.method().name());
    return table.toActivationRanges();
  }

  private static int[] firstKnown(int[]... shapes) {
    for (int[] s : shapes) {
      if (s != null) {
        return s;
      }
    }
    return null;
  }

  private static Iterator<Quantizer.InputBatch> batches(Iterator<Batch> batches) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return batches.hasNext();
      }

      @Override
      public Quantizer.InputBatch next() {
        Batch b = batches.next();
        return new Quantizer.InputBatch(b.values(), b.size()); // FLAT rows are NHWC row-major
      }
    };
  }
}
