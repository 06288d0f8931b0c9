package io.sparkquant.jobs.bench;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.jobs.cli.CheckedPaths;
import io.sparkquant.jobs.qat.QatJob;
import io.sparkquant.jobs.spark.SparkSessions;
import io.sparkquant.jobs.train.EpochStats;
import io.sparkquant.jobs.train.ParameterAveragingTrainer;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.qat.QatNetwork;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.learning.config.Adam;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkquant bench-qat} (hidden): QAT fine-tuning samples/s against float training samples/s of the same
 * preset on the same rows, batch size, local steps and partitions (one per core), for each local master, and the
 * speed-up between masters. Each rate is the best epoch after a warm-up epoch ({@code --repeats} timed epochs), and
 * every ratio divides two rates measured in the same run, since the machine is noisy.
 *
 * <p>The QAT run fine-tunes what the {@code qat} job fine-tunes: the float model trained by the first master's run,
 * imported into the graph IR, built by {@link QatNetwork} with ranges from a calibration table that this command
 * computes with the {@link Calibrator}, trained by {@link ParameterAveragingTrainer}. Run it with
 * {@code OMP_NUM_THREADS=1} (the launcher's default) so that a local[k] master uses k cores.
 */
@Command(name = "bench-qat", hidden = true, mixinStandardHelpOptions = true, sortOptions = false,
    description = "Benchmark: QAT fine-tuning samples/s vs float training samples/s on the same model, rows and"
        + " cores; local[1] vs local[2].")
public final class BenchQatCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--data", required = true, description = "Dataset (Parquet tensor format).")
  String data;

  @Option(names = "--preset", defaultValue = "cnn",
      description = "Network: cnn, micro or mlp. Default: ${DEFAULT-VALUE}.")
  String preset;

  @Option(names = "--rows", defaultValue = "4000",
      description = "Training rows (the first N). Default: ${DEFAULT-VALUE}.")
  long rows;

  @Option(names = "--repeats", defaultValue = "3",
      description = "Timed epochs per run after one warm-up epoch; the best is reported. Default: ${DEFAULT-VALUE}.")
  int repeats;

  @Option(names = "--calibration-rows", defaultValue = "512",
      description = "Rows the calibrator samples for the QAT ranges. Default: ${DEFAULT-VALUE}.")
  long calibrationRows;

  @Option(names = "--hooks-off",
      description = "Also time the QAT network with every fake-quant hook disabled (the cost of the hooks alone)."
          + " Default: false.")
  boolean hooksOff;

  @Option(names = "--masters", split = ",", defaultValue = "local[1],local[2]",
      description = "Local masters to compare, comma separated. Default: ${DEFAULT-VALUE}.")
  List<String> masters;

  @Override
  public Integer call() throws IOException {
    TrainConfig config;
    try {
      masters.forEach(BenchCommand::localCores);
      if (repeats < 1 || rows < 1 || calibrationRows < 1) {
        throw new IllegalArgumentException("--repeats, --rows and --calibration-rows must be >= 1");
      }
      config = TrainConfig.withDefaults(Preset.fromCliName(preset), 1 + repeats, 1, TrainConfig.DEFAULT_SEED);
      CheckedPaths.requireExists(data, "--data");
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    PrintWriter console = spec.commandLine().getOut();
    Map<String, double[]> rates = new LinkedHashMap<>(); // master -> {float, qat[, hooks off]}
    byte[] model = null;
    ActivationRanges ranges = null;
    for (String master : masters) {
      int cores = BenchCommand.localCores(master);
      SparkSession spark = SparkSessions.create("sparkquant-bench-qat", master);
      try {
        TensorDataset dataset = TensorDatasets.load(spark, data);
        DatasetInfo info = dataset.info();
        Dataset<Row> input = dataset.rows().limit((int) rows);
        ParameterAveragingTrainer.Result<MultiLayerNetwork> trained =
            BenchCommand.trainFloat(spark, input, info, config, cores);
        List<Double> measured = new ArrayList<>();
        measured.add(best(trained.epochs()));
        print(console, "float", master, measured.get(0), trained.rows(), cores);
        if (model == null) {
          ByteArrayOutputStream bytes = new ByteArrayOutputStream();
          ModelSerializer.writeModel(trained.network(), bytes, false);
          model = bytes.toByteArray();
          ranges = new Calibrator().setModel(model).setInputShape(info.shape()).setSampleRows(calibrationRows)
              .setSeed(config.seed()).fit(input).toActivationRanges();
        }
        measured.add(best(fineTune(spark, model, ranges, input, info, config, cores, true)));
        print(console, "qat", master, measured.get(1), trained.rows(), cores);
        if (hooksOff) {
          measured.add(best(fineTune(spark, model, ranges, input, info, config, cores, false)));
          print(console, "qat, hooks off", master, measured.get(2), trained.rows(), cores);
        }
        rates.put(master, measured.stream().mapToDouble(Double::doubleValue).toArray());
      } finally {
        spark.stop();
      }
    }
    for (Map.Entry<String, double[]> e : rates.entrySet()) {
      double[] r = e.getValue();
      console.printf(Locale.ROOT, "qat / float %s: %.2f (goal >= 0.7)%s%n", e.getKey(), r[1] / r[0],
          r.length > 2 ? String.format(Locale.ROOT, "; hooks off / float %.2f", r[2] / r[0]) : "");
    }
    double[] first = rates.get(masters.get(0));
    for (int i = 1; i < masters.size(); i++) {
      double[] r = rates.get(masters.get(i));
      console.printf(Locale.ROOT, "speed-up %s -> %s: qat %.2fx (goal >= 1.8x), float %.2fx%n", masters.get(0),
          masters.get(i), r[1] / first[1], r[0] / first[0]);
    }
    return 0;
  }

  /** Fine-tunes the fake-quant network of {@code model} as the qat job does (ranges fixed), hooks on or off. */
  private static List<EpochStats> fineTune(SparkSession spark, byte[] model, ActivationRanges ranges,
      Dataset<Row> input, DatasetInfo info, TrainConfig config, int cores, boolean hooks) throws IOException {
    Graph graph = Dl4jImporter.importModel(Dl4jImporter.load(model), info.shape());
    QatNetwork qat = QatNetwork.build(graph, ranges,
        new QatNetwork.Options(false, false, new Adam(QatJob.DEFAULT_LEARNING_RATE), config.seed()));
    qat.setEnabled(hooks);
    TrainConfig schedule = new TrainConfig(config.preset(), config.epochs(), config.batchSize(), cores,
        config.seed(), QatJob.DEFAULT_LEARNING_RATE, 1.0, config.localSteps());
    // The QAT network reads the source model's input layout, which is the preset's.
    ParameterAveragingTrainer.Result<ComputationGraph> result = new ParameterAveragingTrainer(schedule)
        .fit(spark, qat.network(), "QAT " + config.preset().cliName(), config.preset().layout(), input, null, info,
            s -> { });
    return result.epochs();
  }

  /** The best samples/s of the epochs after the first (a warm-up: JIT, caches, the first shuffle). */
  private static double best(List<EpochStats> epochs) {
    return epochs.stream().skip(1).mapToDouble(EpochStats::samplesPerSecond).max().orElseThrow();
  }

  private void print(PrintWriter console, String what, String master, double rate, long trainRows, int cores) {
    console.printf(Locale.ROOT, "%s %s %s: %.0f samples/s (best of %d epochs after a warm-up; %d rows, %d"
        + " partitions)%n", what, preset, master, rate, repeats, trainRows, cores);
    console.flush();
  }
}
