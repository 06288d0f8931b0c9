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
import io.sparkquant.jobs.train.Schedule;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.qat.QatNetwork;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.learning.config.Adam;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkquant bench-qat} (hidden): QAT fine-tuning samples/s against float training samples/s of the same
 * preset on the same rows, batch size, local steps and partitions (one per core), for each local master, and the
 * speed-up between masters. After {@code --warmup} untimed runs, {@code --repeats} timed runs each give every master
 * a session of its own in turn, with an untimed float epoch and then one float and one QAT epoch, and the best epoch
 * of each kind and master counts; every ratio divides two rates measured in the same run, interleaved, since the
 * machine is noisy. The speed-up is also printed run by run (each local[1] epoch against the local[2] epoch of the
 * same run) with its median.
 *
 * <p>The QAT runs fine-tune what the {@code qat} job fine-tunes: a float model of the preset (trained for two epochs
 * on the same rows, once), imported into the graph IR, built by {@link QatNetwork} with ranges from a calibration
 * table that this command computes with the {@link Calibrator}, trained by {@link ParameterAveragingTrainer}. Run it
 * with {@code OMP_NUM_THREADS=1} (the launcher's default) so that a local[k] master uses k cores.
 *
 * <p>Per master it also prints the executor CPU time of the timed training-round tasks per sample and the cores
 * the JVM used meanwhile (JIT and GC included): CPU time per sample does not depend on other load, so its ratio
 * between masters shows whether two concurrent tasks slow each other, and local[1] using more than one core
 * shows work (JIT, GC, driver) that local[1] gets for free on the idle core and local[2] pays for.
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
      description = "Training rows (the N smallest ids). Default: ${DEFAULT-VALUE}.")
  long rows;

  @Option(names = "--repeats", defaultValue = "3",
      description = "Timed runs, each one epoch of each kind on each master in turn; the best epoch is reported."
          + " Default: ${DEFAULT-VALUE}.")
  int repeats;

  @Option(names = "--warmup", defaultValue = "1",
      description = "Untimed runs before the timed ones (JIT). Default: ${DEFAULT-VALUE}.")
  int warmup;

  @Option(names = "--calibration-rows", defaultValue = "512",
      description = "Rows the calibrator samples for the QAT ranges. Default: ${DEFAULT-VALUE}.")
  long calibrationRows;

  @Option(names = "--hooks-off",
      description = "Also time the QAT network with every fake-quant hook disabled (the cost of the hooks alone)."
          + " Default: false.")
  boolean hooksOff;

  @Mixin LocalMasters localMasters;

  @Override
  public Integer call() throws IOException {
    TrainConfig config;
    List<String> masters;
    try {
      masters = localMasters.checked();
      if (repeats < 1 || warmup < 0 || rows < 1 || calibrationRows < 1) {
        throw new IllegalArgumentException("--repeats, --rows and --calibration-rows must be >= 1, --warmup >= 0");
      }
      config = TrainConfig.withDefaults(Preset.fromCliName(preset), 1, 1, TrainConfig.DEFAULT_SEED);
      CheckedPaths.requireExists(data, "--data");
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    PrintWriter console = spec.commandLine().getOut();
    int kinds = hooksOff ? 3 : 2;
    Map<String, double[]> rates = new LinkedHashMap<>(); // master -> best {float, qat[, hooks off]}
    Map<String, List<double[]>> runRates = new LinkedHashMap<>(); // master -> every timed run's rates
    Map<String, RoundCpuListener> roundCpu = new LinkedHashMap<>();
    Map<String, JvmCpu> timedCpu = new LinkedHashMap<>();
    Map<String, Long> timedSamples = new LinkedHashMap<>();
    for (String master : masters) {
      rates.put(master, new double[kinds]);
      runRates.put(master, new ArrayList<>());
      roundCpu.put(master, new RoundCpuListener());
      timedCpu.put(master, new JvmCpu());
      timedSamples.put(master, 0L);
    }
    byte[] model = null;
    ActivationRanges ranges = null;
    // Untimed runs first (JIT, class loading), then timed ones. Each run gives every master a session of its own
    // in turn, with one epoch of each kind, so that a slow spell of this machine (the CPU time per sample of the
    // same epoch swings by 40 % over minutes here) falls on every master and kind alike; the best epoch counts.
    for (int run = 1 - warmup; run <= repeats; run++) {
      boolean timed = run > 0;
      for (String master : masters) {
        int cores = LocalMasters.cores(master);
        SparkSession spark = SparkSessions.create("sparkquant-bench-qat", master);
        try (CoreAffinity pinned = localMasters.pin(master)) {
          TensorDataset dataset = TensorDatasets.load(spark, data);
          DatasetInfo info = dataset.info();
          // Cached: a limit in the plan of every epoch made Spark generate and compile new classes for each one (a
          // limit's counter has a fresh name in the code), and the JIT compiled them again while the epoch ran.
          Dataset<Row> input = TensorDatasets.firstRows(dataset.rows(), rows).persist(StorageLevel.MEMORY_ONLY());
          input.count();
          if (model == null) { // the model QAT fine-tunes, and its ranges: trained and calibrated once
            ParameterAveragingTrainer.Result<MultiLayerNetwork> trained = BenchCommand.trainFloat(spark, input, info,
                TrainConfig.withDefaults(config.preset(), 2, cores, config.seed()), cores);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ModelSerializer.writeModel(trained.network(), bytes, false);
            model = bytes.toByteArray();
            ranges = new Calibrator().setModel(model).setInputShape(info.shape()).setSampleRows(calibrationRows)
                .setSeed(config.seed()).fit(input).toActivationRanges();
          }
          // The first epoch of a session runs its first round about 2 s slower than later ones (new task threads):
          // an untimed epoch takes that.
          BenchCommand.trainFloat(spark, input, info, config, cores);
          spark.sparkContext().addSparkListener(roundCpu.get(master));
          spark.sparkContext().setLocalProperty(RoundCpuListener.TIMED, Boolean.toString(timed));
          double[] runRate = new double[kinds];
          for (int kind = 0; kind < kinds; kind++) {
            JvmCpu before = JvmCpu.now();
            EpochStats epoch = kind == 0 ? BenchCommand.trainFloat(spark, input, info, config, cores).epochs().get(0)
                : fineTune(spark, model, ranges, input, info, config, cores, kind == 1).get(0);
            if (timed) {
              runRate[kind] = epoch.samplesPerSecond();
              double[] best = rates.get(master);
              best[kind] = Math.max(best[kind], runRate[kind]);
              timedCpu.get(master).add(JvmCpu.now().minus(before));
              timedSamples.merge(master, epoch.samples(), Long::sum);
            }
          }
          if (timed) {
            runRates.get(master).add(runRate);
          }
        } finally {
          spark.stop(); // also delivers the listener's pending events
        }
      }
    }
    String[] names = {"float", "qat", "qat, hooks off"};
    for (String master : masters) {
      for (int kind = 0; kind < kinds; kind++) {
        console.printf(Locale.ROOT, "%s %s %s: %.0f samples/s (best of %d epochs after %d untimed; %d rows,"
            + " %d partitions)%n", names[kind], preset, master, rates.get(master)[kind], repeats, warmup, rows,
            LocalMasters.cores(master));
      }
      RoundCpuListener cpu = roundCpu.get(master);
      JvmCpu jvm = timedCpu.get(master);
      console.printf(Locale.ROOT, "cpu %s: round tasks %.1f ms cpu per 1000 samples (%d tasks, cpu/run time %.2f);"
          + " the JVM used %.2f cores during the timed runs (JIT %d ms, GC %d ms)%n", master,
          cpu.cpuMillis() * 1000.0 / Math.max(1, timedSamples.get(master)), cpu.tasks(),
          cpu.cpuMillis() / (double) Math.max(1, cpu.runMillis()), jvm.cores(), jvm.jitMillis, jvm.gcMillis);
    }
    Map<String, Double> taskCpuPerSample = new LinkedHashMap<>();
    roundCpu.forEach((master, cpu) ->
        taskCpuPerSample.put(master, cpu.cpuMillis() / (double) Math.max(1, timedSamples.get(master))));
    for (Map.Entry<String, double[]> e : rates.entrySet()) {
      double[] r = e.getValue();
      console.printf(Locale.ROOT, "qat / float %s: %.2f (goal >= 0.7)%s%n", e.getKey(), r[1] / r[0],
          r.length > 2 ? String.format(Locale.ROOT, "; hooks off / float %.2f", r[2] / r[0]) : "");
    }
    double[] first = rates.get(masters.get(0));
    for (int i = 1; i < masters.size(); i++) {
      double[] r = rates.get(masters.get(i));
      console.printf(Locale.ROOT, "speed-up %s -> %s: qat %.2fx (goal >= 1.8x), float %.2fx; round-task cpu per"
          + " sample %s / %s: %.2f%n", masters.get(0), masters.get(i), r[1] / first[1], r[0] / first[0],
          masters.get(i), masters.get(0), taskCpuPerSample.get(masters.get(i)) / taskCpuPerSample.get(masters.get(0)));
      List<double[]> one = runRates.get(masters.get(0));
      List<double[]> other = runRates.get(masters.get(i));
      console.printf(Locale.ROOT, "  the same run by run (epochs minutes apart at most): qat %s, float %s; medians"
          + " %.2fx / %.2fx%n", runRatios(other, one, 1), runRatios(other, one, 0),
          median(other, one, 1), median(other, one, 0));
    }
    return 0;
  }

  private static double[] ratios(List<double[]> numerators, List<double[]> denominators, int kind) {
    double[] r = new double[numerators.size()];
    for (int run = 0; run < r.length; run++) {
      r[run] = numerators.get(run)[kind] / denominators.get(run)[kind];
    }
    return r;
  }

  private static String runRatios(List<double[]> numerators, List<double[]> denominators, int kind) {
    StringBuilder out = new StringBuilder();
    for (double r : ratios(numerators, denominators, kind)) {
      out.append(out.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.2fx", r));
    }
    return out.toString();
  }

  private static double median(List<double[]> numerators, List<double[]> denominators, int kind) {
    double[] r = ratios(numerators, denominators, kind);
    Arrays.sort(r);
    return r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
  }

  /** Fine-tunes the fake-quant network of {@code model} as the qat job does (ranges fixed), hooks on or off. */
  private static List<EpochStats> fineTune(SparkSession spark, byte[] model, ActivationRanges ranges,
      Dataset<Row> input, DatasetInfo info, TrainConfig config, int cores, boolean hooks) {
    Graph graph;
    try {
      graph = Dl4jImporter.importModel(Dl4jImporter.load(model), info.shape());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read back the benchmark's own model", e);
    }
    QatNetwork qat = QatNetwork.build(graph, ranges,
        new QatNetwork.Options(false, false, new Adam(QatJob.DEFAULT_LEARNING_RATE), config.seed()));
    qat.setEnabled(hooks);
    Schedule schedule = new Schedule(config.epochs(), config.batchSize(), cores, config.seed(),
        QatJob.DEFAULT_LEARNING_RATE, 1.0, config.localSteps());
    // The QAT network reads the source model's input layout, which is the preset's.
    ParameterAveragingTrainer.Result<ComputationGraph> result = new ParameterAveragingTrainer(schedule)
        .fit(spark, qat.network(), "QAT " + config.preset().cliName(), config.preset().layout(), input, null, info,
            (network, stats) -> { });
    return result.epochs();
  }
}
