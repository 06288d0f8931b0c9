package io.sparkquant.jobs.qat;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.Layout;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.output.ProjectVersion;
import io.sparkquant.jobs.quantize.QuantizeJob;
import io.sparkquant.jobs.spark.ExecutorCache;
import io.sparkquant.jobs.train.EpochStats;
import io.sparkquant.jobs.train.ParameterAveragingTrainer;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.export.ExportMode;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.Quantizer;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.ModelMetadata;
import io.sparkquant.ops.qat.QatNetwork;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quantization-aware fine-tuning: imports the DL4J model into the graph IR, builds the fake-quant network with
 * {@link QatNetwork} and the calibration table's ranges, fine-tunes it with {@link ParameterAveragingTrainer}
 * (ranges fixed), and writes atomically into {@code out}: {@code model.zip} (the fine-tuned ComputationGraph with its
 * hooks, plus {@link ModelMetadata}), {@code model-int8.tflite} exported from the written-back weights and the
 * network's ranges (no recalibration) with its model card {@code model-int8.json}, and {@code manifest.json}.
 */
public final class QatJob {

  private static final Logger LOG = LoggerFactory.getLogger(QatJob.class);

  public static final String MODEL_FILE = "model.zip";
  public static final String TFLITE_FILE = "model-int8.tflite";
  public static final double DEFAULT_LEARNING_RATE = 1e-4;

  private QatJob() {}

  /**
   * Resolved options.
   *
   * @param calibration calibration table (JSON) of {@code model}: the fake-quant ranges
   * @param limit use only the first {@code limit} rows of {@code data} (0 = all)
   * @param partitions data partitions; 0 = Spark's default parallelism
   */
  public record Options(String model, String data, String calibration, String out, int epochs, double learningRate,
      int batchSize, int partitions, long seed, long limit, boolean overwrite) {
    public Options {
      if (model == null || data == null || calibration == null || out == null) {
        throw new IllegalArgumentException("model, data, calibration and out are required");
      }
      if (limit < 0) {
        throw new IllegalArgumentException("limit must be >= 0 (0 = all rows), got " + limit);
      }
      schedule(epochs, batchSize, partitions, seed, learningRate); // checks them
    }

    TrainConfig schedule() {
      return schedule(epochs, batchSize, partitions, seed, learningRate);
    }

    /** The fine-tuning schedule; TrainConfig requires a preset, which a given network does not use. */
    private static TrainConfig schedule(int epochs, int batchSize, int partitions, long seed, double learningRate) {
      return new TrainConfig(Preset.CNN, epochs, batchSize, partitions, seed, learningRate, 1.0,
          TrainConfig.DEFAULT_LOCAL_STEPS);
    }
  }

  /**
   * What the job wrote and how training went.
   *
   * @param int8Accuracy accuracy of the exported .tflite (Java interpreter) on the fine-tuning rows
   */
  public record Result(String outDir, String modelPath, String tflitePath, Quantizer.Result export,
      ParameterAveragingTrainer.Result<ComputationGraph> training, double int8Accuracy) {}

  public static Result run(SparkSession spark, Options o, Consumer<EpochStats> progress) {
    long start = System.nanoTime();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    try (OutputDir out = OutputDir.create(conf, o.out(), o.overwrite())) {
      byte[] modelBytes = HadoopFiles.readAllBytes(conf, o.model());
      ModelMetadata recorded = ModelMetadata.read(modelBytes).orElse(null);
      CalibrationTable table;
      try {
        table = CalibrationTable.fromJson(HadoopFiles.readString(conf, o.calibration()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(o.calibration() + ": " + e.getMessage(), e);
      }
      TensorDataset data = TensorDatasets.load(spark, o.data());
      DatasetInfo info = data.info();
      int[] shape = recorded != null && recorded.inputShape() != null ? recorded.inputShape()
          : table.inputShape() != null ? table.inputShape() : info.shape();
      Model dl4j;
      try {
        dl4j = Dl4jImporter.load(modelBytes);
      } catch (IOException e) {
        throw new IllegalArgumentException("model " + o.model() + " is not a readable DL4J ModelSerializer zip: "
            + e.getMessage(), e);
      }
      Graph graph = Dl4jImporter.importModel(dl4j, shape);
      QatNetwork qat = QatNetwork.build(graph, table.toActivationRanges(),
          new QatNetwork.Options(false, false, new Adam(o.learningRate()), o.seed()));
      Layout layout = layout(graph, info);

      Dataset<Row> rows = data.rows();
      if (o.limit() > 0) {
        rows = rows.limit((int) Math.min(o.limit(), Integer.MAX_VALUE));
      }
      ParameterAveragingTrainer.Result<ComputationGraph> training = new ParameterAveragingTrainer(o.schedule())
          .fit(spark, qat.network(), "QAT " + graph.name(), layout, rows, null, info, progress);

      Graph tuned = qat.writeBack();
      Map<String, Object> provenance = new LinkedHashMap<>();
      provenance.put("sourceModel", HadoopFiles.qualified(conf, o.model()));
      provenance.put("calibrationTable", HadoopFiles.qualified(conf, o.calibration()));
      provenance.put("calibrationMethod", table.method().name());
      provenance.put("qatData", HadoopFiles.qualified(conf, o.data()));
      provenance.put("qatEpochs", o.epochs());
      provenance.put("inputShape", Arrays.copyOfRange(tuned.input().shape(), 1, tuned.input().shape().length));
      if (recorded != null && !recorded.classNames().isEmpty()) {
        provenance.put("classNames", recorded.classNames());
      }
      Quantizer.Config config = new Quantizer.Config(ExportMode.INT8, ExportOptions.IoType.FLOAT, Set.of(), 0,
          ExecutorCache.sha256(modelBytes), ProjectVersion.get(), false);
      Quantizer.Result export = Quantizer.quantize(tuned, qat.ranges(), config, null, provenance);
      // the deployed model's accuracy on the rows it was fine-tuned on, for comparison with the simulated one
      double int8Accuracy = ParameterAveragingTrainer.accuracy(spark, export.tflite(), TFLITE_FILE, rows, info);
      LOG.info("int8 .tflite accuracy on the {} training rows: {}", training.rows(), int8Accuracy);

      try (OutputStream model = out.create(MODEL_FILE)) {
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        ModelSerializer.writeModel(qat.network(), zip, true);
        byte[] bytes = zip.toByteArray();
        model.write(recorded != null ? recorded.addTo(bytes) : bytes);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot write " + out.path(MODEL_FILE), e);
      }
      String card = new org.apache.hadoop.fs.Path(QuantizeJob.cardPath(TFLITE_FILE)).getName();
      out.writeBytes(card, export.cardJson());
      out.writeBytes(TFLITE_FILE, export.tflite());
      new Manifest("qat", o)
          .spark(spark)
          .input("train", o.data(), training.rows())
          .put("partitions", training.partitions())
          .put("parameters", qat.network().numParams())
          .put("epochs", training.epochs())
          .put("int8TrainAccuracy", int8Accuracy)
          .duration("train", training.trainMillis())
          .duration("total", (System.nanoTime() - start) / 1_000_000)
          .writeTo(out);
      out.commit();
      LOG.info("QAT model written to {}", out.finalPath());
      return new Result(out.finalPath(), out.finalPath(MODEL_FILE), out.finalPath(TFLITE_FILE), export, training,
          int8Accuracy);
    }
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
