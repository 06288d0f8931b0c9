package io.sparkquant.jobs.qat;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.Layout;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.output.ProjectVersion;
import io.sparkquant.jobs.quantize.QuantizeJob;
import io.sparkquant.jobs.spark.ExecutorCache;
import io.sparkquant.jobs.train.EpochStats;
import io.sparkquant.jobs.train.ParameterAveragingTrainer;
import io.sparkquant.jobs.train.Schedule;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.export.ExportMode;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.Quantizer;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.Dl4jImporter.InputShapeRequiredException;
import io.sparkquant.ops.graph.ModelMetadata;
import io.sparkquant.ops.qat.QatNetwork;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quantization-aware fine-tuning: imports the DL4J model into the graph IR, builds the fake-quant network with
 * {@link QatNetwork} and activation ranges from a calibration table (or from a distributed calibration run first),
 * fine-tunes it with {@link ParameterAveragingTrainer}, and writes atomically into {@code out}: {@code model.zip} (the
 * fine-tuned ComputationGraph with its hooks, plus {@link ModelMetadata}), {@code model-int8.tflite} exported from the
 * written-back weights and the network's ranges (no recalibration) with its model card {@code model-int8.json}, and
 * {@code manifest.json}.
 *
 * <p>At every epoch's end, on the driver: the weights are written back into the graph, exported as int8 with the
 * ranges the epoch trained with and scored on the executors by the Java interpreter (on the validation rows if given,
 * else on the fine-tuning rows); the ranges are refreshed for the next epoch (up to {@code freezeRangesAfter}); and a
 * checkpoint is written ({@link QatCheckpoint}, under {@link Options#checkpoints()}), from
 * which {@code resume} continues after a killed driver with the same result, byte for byte.
 */
public final class QatJob {

  private static final Logger LOG = LoggerFactory.getLogger(QatJob.class);

  public static final String MODEL_FILE = "model.zip";
  public static final String TFLITE_FILE = "model-int8.tflite";
  public static final double DEFAULT_LEARNING_RATE = 1e-4;
  public static final int DEFAULT_CALIBRATION_ROWS = 1000;
  /**
   * Ranges are refreshed at the end of epochs 1 to this (never after the last epoch): two refreshes follow the weights'
   * first moves, and the later epochs fine-tune against fixed ranges, the ranges the export uses.
   */
  public static final int DEFAULT_FREEZE_RANGES_AFTER = 2;
  /** Weight of the current range in a refresh: {@code new = m * current + (1 - m) * observed}. */
  public static final double DEFAULT_RANGE_MOMENTUM = 0.5;
  /** Suffix of the default checkpoint directory, a sibling of the output directory. */
  public static final String CHECKPOINTS_SUFFIX = ".checkpoints";

  private QatJob() {}

  /**
   * Resolved options.
   *
   * @param validation labelled rows scored (simulated and int8) after every epoch, or null (int8 on the training rows)
   * @param calibration calibration table (JSON) of {@code model}: the initial ranges; null calibrates on {@code data}
   *     first ({@link Calibrator}, {@code calibrationMethod} on {@code calibrationRows} rows by seeded id hash)
   * @param schedule epochs, batch size, partitions (0 = Spark's default parallelism), seed (also of the data
   *     fraction and calibration sample), learning rate and decay, local steps
   * @param fraction fine-tune on this fraction of {@code data} by seeded id hash (0 = all rows)
   * @param limit then use only the first {@code limit} rows (0 = all)
   * @param perTensorWeights simulate and export one weight scale per tensor
   * @param io the exported model's input/output type
   * @param freezeRangesAfter refresh the activation ranges at the end of epochs 1 to this one, and not after the last
   *     epoch (0 = never): statistics of the fine-tuned float network on the calibration sample, merged across all
   *     partitions by the {@link Calibrator}, with the calibration's range method, averaged into the current ranges on
   *     the driver with {@code rangeMomentum}
   * @param rangeMomentum in [0, 1): {@code new = rangeMomentum * current + (1 - rangeMomentum) * observed}
   * @param checkpointDir where epoch checkpoints go; null = {@code <out>.checkpoints}
   * @param resume continue after the latest checkpoint whose options and inputs match this run's
   */
  public record Options(String model, String data, String validation, String calibration, String calibrationMethod,
      long calibrationRows, String out, Schedule schedule, double fraction, long limit, boolean perTensorWeights,
      ExportOptions.IoType io, int freezeRangesAfter, double rangeMomentum, String checkpointDir, boolean resume,
      boolean overwrite) {
    public Options {
      if (model == null || data == null || out == null || schedule == null) {
        throw new IllegalArgumentException("model, data, out and schedule are required");
      }
      calibrationMethod = calibrationMethod == null ? RangeMethod.minMax().name() : calibrationMethod;
      RangeMethod.parse(calibrationMethod, null); // checks it
      if (calibrationRows < 1) {
        throw new IllegalArgumentException("calibration rows must be >= 1, got " + calibrationRows);
      }
      if (!(fraction >= 0 && fraction <= 1)) {
        throw new IllegalArgumentException("fraction must be in [0, 1] (0 = all rows), got " + fraction);
      }
      if (limit < 0) {
        throw new IllegalArgumentException("limit must be >= 0 (0 = all rows), got " + limit);
      }
      io = io == null ? ExportOptions.IoType.FLOAT : io;
      if (freezeRangesAfter < 0) {
        throw new IllegalArgumentException("freeze-ranges-after must be >= 0 (0 = never refresh), got "
            + freezeRangesAfter);
      }
      if (!(rangeMomentum >= 0 && rangeMomentum < 1)) {
        throw new IllegalArgumentException("range momentum must be in [0, 1), got " + rangeMomentum);
      }
    }

    /** The last epoch whose end refreshes the ranges (0 = none). */
    public int lastRefreshEpoch() {
      return Math.min(freezeRangesAfter, schedule.epochs() - 1);
    }

    /** A schedule for fine-tuning: constant learning rate, the train command's batch size and local steps. */
    public static Schedule schedule(int epochs, int partitions, long seed, double learningRate) {
      return new Schedule(epochs, TrainConfig.DEFAULT_BATCH_SIZE, partitions, seed, learningRate, 1.0,
          TrainConfig.DEFAULT_LOCAL_STEPS);
    }

    /** The checkpoint directory: {@code checkpointDir}, or {@code <out>.checkpoints}. */
    public String checkpoints() {
      return checkpointDir != null ? checkpointDir : stripSlash(out) + CHECKPOINTS_SUFFIX;
    }

    private static String stripSlash(String p) {
      return p.endsWith("/") && p.length() > 1 ? p.substring(0, p.length() - 1) : p;
    }
  }

  /**
   * What the job wrote and how training went.
   *
   * @param epochs every epoch of the run, including those before a resume
   * @param int8Accuracy accuracy of the exported .tflite (Java interpreter) after the last epoch
   * @param resumedFrom the checkpoint the run continued from, or null
   */
  public record Result(String outDir, String modelPath, String tflitePath, Quantizer.Result export,
      ParameterAveragingTrainer.Result<ComputationGraph> training, List<QatEpochStats> epochs, double int8Accuracy,
      String resumedFrom) {}

  /**
   * The inputs checked and read without Spark: the model imported and its QAT network known to be buildable, the
   * datasets' shapes matching the model's input, the table (if any) read.
   */
  public record Prepared(Options options, byte[] modelBytes, ModelMetadata recorded, CalibrationTable table,
      String tableSha256, Graph graph, DatasetInfo info) {}

  /**
   * Checks everything that can be checked before Spark starts (the command calls it in its validation).
   *
   * @throws io.sparkquant.ops.graph.UnsupportedModelException naming a layer the QAT network cannot express
   * @throws IllegalArgumentException for an unreadable model or table, or a dataset of another shape than the model's
   */
  public static Prepared prepare(Configuration conf, Options o) {
    byte[] modelBytes = HadoopFiles.readAllBytes(conf, o.model());
    ModelMetadata recorded = ModelMetadata.read(modelBytes).orElse(null);
    CalibrationTable table = null;
    String tableSha = null;
    if (o.calibration() != null) {
      byte[] json = HadoopFiles.readAllBytes(conf, o.calibration());
      tableSha = ExecutorCache.sha256(json);
      try {
        table = CalibrationTable.fromJson(new String(json, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(o.calibration() + ": " + e.getMessage(), e);
      }
    }
    DatasetInfo info = TensorDatasets.readInfo(o.data(), conf);
    int[] known = recorded != null && recorded.inputShape() != null ? recorded.inputShape()
        : table != null ? table.inputShape() : null;
    Model dl4j = Dl4jImporter.load(modelBytes, o.model());
    Graph graph;
    try {
      graph = Dl4jImporter.importModel(dl4j, known);
    } catch (InputShapeRequiredException e) {
      graph = Dl4jImporter.importModel(dl4j, info.shape()); // the data's shape only where the model cannot tell
    }
    if (table != null && !table.checkComputedOn(graph.fingerprint(), o.calibration(), o.model())) {
      LOG.warn("Calibration table {} records no model fingerprint (written by an older SparkQuant): cannot check "
          + "that it was computed on {}", o.calibration(), o.model());
    }
    QatNetwork.checkSupported(graph);
    checkShape(graph, info, "--data " + o.data());
    if (o.validation() != null) {
      DatasetInfo v = TensorDatasets.readInfo(o.validation(), conf);
      checkShape(graph, v, "--validation " + o.validation());
      if (v.numClasses() != info.numClasses()) {
        throw new IllegalArgumentException("validation dataset " + o.validation() + " has " + v.numClasses()
            + " classes, the training dataset " + o.data() + " has " + info.numClasses());
      }
    }
    if (table != null) {
      Set<String> covered = table.tensors().keySet();
      List<String> missing = TfliteExporter.tensorsNeedingRanges(graph).stream()
          .filter(t -> !covered.contains(t)).toList();
      if (!missing.isEmpty()) {
        throw new IllegalArgumentException("calibration table " + o.calibration() + " has no range for tensors "
            + missing + " of " + o.model() + " (calibrate this model again)");
      }
    }
    return new Prepared(o, modelBytes, recorded, table, tableSha, graph, info);
  }

  /** A dataset must hold the model's input items: same element count, and the same HWC shape for images. */
  private static void checkShape(Graph graph, DatasetInfo info, String what) {
    int[] expected = Arrays.copyOfRange(graph.input().shape(), 1, graph.input().rank());
    int expectedLength = graph.input().itemSize();
    boolean flatModel = expected.length == 1;
    if (info.featureLength() != expectedLength || (!flatModel && !Arrays.equals(expected, info.shape()))) {
      throw new IllegalArgumentException(what + " has rows of shape " + Arrays.toString(info.shape()) + " ("
          + info.featureLength() + " values); the model " + graph.name() + " expects " + Arrays.toString(expected)
          + " (" + expectedLength + " values)");
    }
  }

  public static Result run(SparkSession spark, Options o, Consumer<QatEpochStats> progress) {
    return run(spark, prepare(spark.sparkContext().hadoopConfiguration(), o), progress);
  }

  public static Result run(SparkSession spark, Prepared p, Consumer<QatEpochStats> progress) {
    long start = System.nanoTime();
    Options o = p.options();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    String checkpoints = o.checkpoints();
    if (!o.resume() && QatCheckpoint.exists(conf, checkpoints)) {
      if (!o.overwrite()) {
        throw new IllegalArgumentException("checkpoint directory " + checkpoints + " holds a previous run's "
            + "checkpoints; pass --resume to continue it, or --overwrite to start over");
      }
      QatCheckpoint.delete(conf, checkpoints);
    }
    try (OutputDir out = OutputDir.create(conf, o.out(), o.overwrite())) {
      Graph graph = p.graph();
      DatasetInfo info = p.info();
      TensorDataset data = TensorDatasets.load(spark, o.data(), info);
      Dataset<Row> rows = data.rows();
      if (o.fraction() > 0) {
        // the calibrator's seeded id-hash sampling: the same rows whatever the partitioning
        rows = new Calibrator().setSeed(o.schedule().seed()).setSampleFraction(o.fraction()).sample(rows);
      }
      if (o.limit() > 0) {
        rows = TensorDatasets.firstRows(rows, o.limit());
      }
      Dataset<Row> validation = null;
      if (o.validation() != null) {
        TensorDataset v = TensorDatasets.load(spark, o.validation());
        // every row now, before calibration and the first epoch: a bad row would otherwise surface only when the
        // first epoch is scored
        v.checkRows();
        validation = v.rows();
      }

      Calibrator.Run calibration = null;
      CalibrationTable table = p.table();
      if (table == null) {
        calibration = calibrator(p).fitRun(data.rows());
        table = calibration.table();
        LOG.info("Calibrated {} on {} rows ({}) in {} ms", o.model(), calibration.rows(),
            table.method().name(), calibration.minMaxMillis() + calibration.histogramMillis());
      }
      int partitions = o.schedule().partitions() > 0 ? o.schedule().partitions()
          : spark.sparkContext().defaultParallelism();
      Map<String, String> fingerprint = fingerprint(p, table, partitions, rows.count());

      QatNetwork qat = QatNetwork.build(graph, table.toActivationRanges(), new QatNetwork.Options(o.perTensorWeights(),
          false, updater(o.schedule()), o.schedule().seed()));
      List<QatEpochStats> history = new ArrayList<>();
      String resumedFrom = null;
      if (o.resume()) {
        String latest = QatCheckpoint.latest(conf, checkpoints).orElse(null);
        if (latest == null) {
          LOG.info("--resume: no checkpoint in {}; starting from epoch 1", checkpoints);
        } else {
          QatCheckpoint c = QatCheckpoint.read(conf, latest);
          String diff = c.difference(fingerprint).orElse(null);
          if (diff != null) {
            throw new IllegalArgumentException("cannot resume from " + latest + ": it was written by a run with other "
                + "options or inputs (" + diff + "); rerun with the same ones, or without --resume and with "
                + "--overwrite to start over");
          }
          if (c.epoch() > o.schedule().epochs()) {
            throw new IllegalArgumentException("cannot resume from " + latest + ": it is after epoch " + c.epoch()
                + ", more than --epochs " + o.schedule().epochs());
          }
          ComputationGraph restored = QatCheckpoint.network(conf, latest);
          // the trainer continues from these: Adam's bias correction and the learning-rate schedule
          restored.getConfiguration().setIterationCount(c.iterationCount());
          restored.getConfiguration().setEpochCount(c.epoch());
          qat = QatNetwork.attach(graph, restored);
          qat.setRanges(ActivationRanges.of(c.ranges(), "qat"));
          history.addAll(c.history());
          resumedFrom = latest;
          LOG.info("Resuming after epoch {} (iteration {}) from {}", c.epoch(), c.iterationCount(), latest);
        }
      }

      Quantizer.Config exportConfig = new Quantizer.Config(ExportMode.INT8, o.io(), Set.of(), 0,
          ExecutorCache.sha256(p.modelBytes()), ProjectVersion.get(), o.perTensorWeights());
      Map<String, Object> provenance = provenance(conf, p, table, graph);
      Dataset<Row> int8Rows = validation != null ? validation : rows;
      String int8RowsName = validation != null ? "validation" : "training";
      QatNetwork tuning = qat;
      Quantizer.Result[] lastExport = new Quantizer.Result[1];
      Calibrator refresher = calibrator(p).setMethod(table.method());
      ParameterAveragingTrainer.EpochEnd<ComputationGraph> epochEnd = (network, stats) -> {
        // What ships after this epoch, with the ranges it trained with (those of the simulated accuracies)
        long t0 = System.nanoTime();
        // Biases onto their exported int32 values (the export does not change): the saved model, the checkpoint and
        // the next epoch then hold exactly the biases that ship (the trainer continues from these parameters)
        tuning.snapBiasesToExport(new ExportOptions(ExportMode.INT8, o.io(), tuning.ranges(), null, null, Set.of(),
            o.perTensorWeights()));
        Quantizer.Result export = Quantizer.quantize(tuning.writeBack(), tuning.ranges(), exportConfig, null,
            provenance);
        double int8Accuracy = ParameterAveragingTrainer.accuracy(spark, export.tflite(), TFLITE_FILE, int8Rows, info);
        lastExport[0] = export;
        long int8Millis = (System.nanoTime() - t0) / 1_000_000;
        // then the ranges the next epoch trains with, saved in the checkpoint
        boolean refresh = stats.epoch() <= o.lastRefreshEpoch();
        if (refresh) {
          tuning.setRanges(refreshedRanges(tuning, refresher, data.rows(), o.rangeMomentum()));
        }
        QatEpochStats epoch = new QatEpochStats(stats, int8Accuracy, int8RowsName, refresh, int8Millis);
        history.add(epoch);
        String written = new QatCheckpoint(stats.epoch(), network.getConfiguration().getIterationCount(), fingerprint,
            tuning.ranges().asMap(), history).write(conf, checkpoints, network);
        LOG.info("{}; checkpoint {}", epoch.describe(), written);
        progress.accept(epoch);
      };
      ParameterAveragingTrainer.Result<ComputationGraph> training;
      try {
        training = new ParameterAveragingTrainer(o.schedule()).fit(spark, qat.network(), "QAT " + graph.name(),
            layout(graph, info), rows, validation, info, epochEnd);
      } catch (ParameterAveragingTrainer.DivergedException e) {
        String last = QatCheckpoint.latest(conf, checkpoints).orElse(null);
        throw new ParameterAveragingTrainer.DivergedException(e.getMessage() + "; " + (last == null
            ? "no checkpoint was written" : "the last good checkpoint is " + last + " (--resume continues from it)"),
            e);
      }
      Quantizer.Result export = lastExport[0] != null ? lastExport[0]
          : Quantizer.quantize(qat.writeBack(), qat.ranges(), exportConfig, null, provenance);
      double int8Accuracy = history.isEmpty() ? Double.NaN : history.get(history.size() - 1).int8Accuracy();

      try (OutputStream model = out.create(MODEL_FILE)) {
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        ModelSerializer.writeModel(qat.network(), zip, true);
        byte[] bytes = zip.toByteArray();
        ModelMetadata metadata = p.recorded() != null ? p.recorded() : new ModelMetadata(info.shape(),
            info.classNames());
        model.write(metadata.addTo(bytes));
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot write " + out.path(MODEL_FILE), e);
      }
      String card = new org.apache.hadoop.fs.Path(QuantizeJob.cardPath(TFLITE_FILE)).getName();
      out.writeBytes(card, export.cardJson());
      out.writeBytes(TFLITE_FILE, export.tflite());
      Manifest manifest = new Manifest("qat", o)
          .spark(spark)
          .input("train", o.data(), training.rows())
          .put("partitions", training.partitions())
          .put("parameters", qat.network().numParams())
          .put("epochs", history)
          .put("int8Accuracy", int8Accuracy)
          .put("int8AccuracyRows", int8RowsName)
          .put("checkpoints", checkpoints)
          .put("resumedFrom", resumedFrom)
          .put("fingerprint", fingerprint)
          .duration("train", training.trainMillis())
          .duration("total", (System.nanoTime() - start) / 1_000_000);
      if (o.validation() != null) {
        manifest.input("validation", o.validation());
      }
      if (calibration != null) {
        manifest.put("calibrationRows", calibration.rows()).duration("calibration",
            calibration.samplingMillis() + calibration.minMaxMillis() + calibration.histogramMillis());
      }
      manifest.writeTo(out);
      out.commit();
      LOG.info("QAT model written to {}", out.finalPath());
      return new Result(out.finalPath(), out.finalPath(MODEL_FILE), out.finalPath(TFLITE_FILE), export, training,
          List.copyOf(history), int8Accuracy, resumedFrom);
    }
  }

  /** The distributed calibration of the source model on {@code --data}, as {@code quantize --calibration-data}. */
  private static Calibrator calibrator(Prepared p) {
    Options o = p.options();
    return new Calibrator()
        .setModel(p.modelBytes())
        .setInputShape(Arrays.copyOfRange(p.graph().input().shape(), 1, p.graph().input().rank()))
        .setMethod(RangeMethod.parse(o.calibrationMethod(), null))
        .setSampleRows(o.calibrationRows())
        .setSeed(o.schedule().seed());
  }

  /**
   * The current ranges moved towards the statistics of the fine-tuned float graph (its float32 export) on the
   * calibration sample: the calibrator's distributed pass, merged across all partitions (so the result does not
   * depend on the partitioning), then {@code new = momentum * current + (1 - momentum) * observed} on the driver.
   */
  static ActivationRanges refreshedRanges(QatNetwork qat, Calibrator calibrator, Dataset<Row> rows, double momentum) {
    // the fine-tuned weights in the graph: the calibrator observes its float32 export
    ActivationRanges observed = calibrator.setGraph(qat.observableGraph()).fit(rows).toActivationRanges();
    Map<String, float[]> moved = new LinkedHashMap<>();
    qat.ranges().asMap().forEach((tensor, current) -> {
      float[] seen = observed.get(tensor).orElseThrow(() -> new IllegalStateException("the refresh observed no "
          + "statistics of tensor '" + tensor + "'"));
      moved.put(tensor, new float[] {
          (float) (momentum * current[0] + (1 - momentum) * seen[0]),
          (float) (momentum * current[1] + (1 - momentum) * seen[1])});
    });
    return ActivationRanges.of(moved, "qat");
  }

  /** Adam at the schedule's learning rate, multiplied by its decay after every epoch (the epoch count is restored). */
  private static Adam updater(Schedule s) {
    return new Adam(new ExponentialSchedule(ScheduleType.EPOCH, s.learningRate(), s.learningRateDecay()));
  }

  /**
   * What a resumed run must share with the checkpoint: every option that changes the result (not the epoch count:
   * a run may be resumed with more epochs) and hashes of the model and table, and the training row count.
   */
  private static Map<String, String> fingerprint(Prepared p, CalibrationTable table, int partitions, long rows) {
    Options o = p.options();
    Schedule s = o.schedule();
    Map<String, String> f = new LinkedHashMap<>();
    f.put("modelSha256", ExecutorCache.sha256(p.modelBytes()));
    f.put("data", o.data());
    f.put("trainingRows", Long.toString(rows));
    f.put("validation", o.validation());
    f.put("calibrationTableSha256", p.tableSha256());
    f.put("initialRangesSha256", ExecutorCache.sha256(table.toJson().getBytes(StandardCharsets.UTF_8)));
    f.put("batchSize", Integer.toString(s.batchSize()));
    f.put("partitions", Integer.toString(partitions));
    f.put("seed", Long.toString(s.seed()));
    f.put("learningRate", Double.toString(s.learningRate()));
    f.put("learningRateDecay", Double.toString(s.learningRateDecay()));
    f.put("localSteps", Integer.toString(s.localSteps()));
    f.put("fraction", Double.toString(o.fraction()));
    f.put("limit", Long.toString(o.limit()));
    f.put("perTensorWeights", Boolean.toString(o.perTensorWeights()));
    f.put("io", o.io().name());
    f.put("rangeRefreshEpochs", o.lastRefreshEpoch() == 0 ? "none" : "1-" + o.lastRefreshEpoch());
    f.put("rangeMomentum", Double.toString(o.rangeMomentum()));
    f.put("calibrationRows", Long.toString(o.calibrationRows()));
    f.put("calibrationMethod", table.method().name());
    return f;
  }

  private static Map<String, Object> provenance(Configuration conf, Prepared p, CalibrationTable table, Graph graph) {
    Options o = p.options();
    Map<String, Object> provenance = new LinkedHashMap<>();
    provenance.put("sourceModel", HadoopFiles.qualified(conf, o.model()));
    provenance.put("calibrationTable", o.calibration() == null ? null : HadoopFiles.qualified(conf, o.calibration()));
    provenance.put("calibrationMethod", table.method().name());
    provenance.put("qatData", HadoopFiles.qualified(conf, o.data()));
    provenance.put("qatEpochs", o.schedule().epochs());
    provenance.put("inputShape", Arrays.copyOfRange(graph.input().shape(), 1, graph.input().shape().length));
    List<String> classNames = p.recorded() != null && !p.recorded().classNames().isEmpty()
        ? p.recorded().classNames() : p.info().classNames();
    if (classNames != null && !classNames.isEmpty()) {
      provenance.put("classNames", classNames);
    }
    return provenance;
  }

  /** The batch layout the QAT network reads, from the source model's input layout. */
  private static Layout layout(Graph graph, DatasetInfo info) {
    return switch (graph.dl4jInputLayout()) {
      case NCHW -> Layout.NCHW;
      case FEED_FORWARD -> Layout.FLAT;
      case FLAT_CHW -> {
        int[] s = info.shape();
        if (s.length == 3 && s[2] != 1) {
          throw new IllegalArgumentException("QAT of a convolutionalFlat model needs one channel (flat CHW is then "
              + "the stored HWC order), the data has shape " + Arrays.toString(s));
        }
        yield Layout.FLAT;
      }
    };
  }
}
