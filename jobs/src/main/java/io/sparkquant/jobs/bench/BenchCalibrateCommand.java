package io.sparkquant.jobs.bench;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.IdxConverter;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.jobs.cli.CheckedPaths;
import io.sparkquant.jobs.eval.Scoring;
import io.sparkquant.jobs.spark.SparkSessions;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkquant bench-calibrate} (hidden): per local master, on the same rows and cores, the rows/s of
 * calibration (end to end), of inference with the float32 export calibration runs (Java interpreter), with the DL4J
 * float model, and of evaluation with the int8 export (Java interpreter), all scored on the executors by
 * {@link Scoring} as {@code evaluate} does, the masters taking turns (a session each per round); the ratios
 * calibration / Java float32 and calibration / DL4J; the speed-up of each between local masters, next to the machine's
 * own ceiling for it measured between the timed runs ({@link MachineScaling}); where the fastest
 * calibration spent its time (per-stage task metrics, {@link StageMetrics}); and the peak live heap of the driver
 * and executors while calibrating N vs 10N rows ({@link LiveHeapPlugin}, in a session of its own, since its forced
 * collections would slow the timed runs). Run it with {@code OMP_NUM_THREADS=1} so that a local[k] master uses k
 * cores (one ND4J thread per task).
 */
@Command(name = "bench-calibrate", hidden = true, mixinStandardHelpOptions = true, sortOptions = false,
    description = "Benchmark: calibration rows/s vs Java float32 and DL4J float inference and int8 evaluation rows/s,"
        + " local[1] vs local[2], heap for N vs 10N rows.")
public final class BenchCalibrateCommand implements Callable<Integer> {

  private static final String CALIBRATION = "calibration";
  private static final String JAVA_FLOAT = "java float32";
  private static final String DL4J_FLOAT = "dl4j float";
  private static final String JAVA_INT8 = "java int8";

  @Spec CommandSpec spec;

  @Option(names = "--data", description = "Dataset (Parquet tensor format) of every run. Default: Fashion-MNIST (the "
      + "installed package, else the bundled subset) converted to <java.io.tmpdir>/sparkquant-bench-fashion-mnist"
      + "[-test]: the test split for the throughput runs, the training split for the heap runs.")
  String data;

  @Option(names = "--preset", defaultValue = "cnn",
      description = "Model: a freshly initialised preset network (cnn or mlp; inference cost does not depend on the"
          + " weights). Default: ${DEFAULT-VALUE}.")
  String preset;

  @Option(names = "--rows", defaultValue = "10000",
      description = "N: about this many rows (every k-th id) for the throughput runs; the heap runs use N and about"
          + " 10 N (at most the whole dataset). Default: ${DEFAULT-VALUE} (the Fashion-MNIST test split).")
  long rows;

  @Option(names = "--method", defaultValue = "minmax",
      description = "Range method of the calibration runs. Default: ${DEFAULT-VALUE}.")
  String method;

  @Option(names = "--batch-size", defaultValue = "64",
      description = "Rows per model call, for calibration and inference alike. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Mixin LocalMasters localMasters;

  @Option(names = "--heap-master",
      description = "Master of the heap runs, e.g. spark://127.0.0.1:7077 (then run the benchmark through"
          + " deploy/submit.sh so that executors get the jar). Default: the last of --masters.")
  String heapMaster;

  @Option(names = "--repeat", defaultValue = "5",
      description = "Rounds: each gives every master a session in turn; in a session each kind (calibration, then"
          + " inference with each model) runs untimed until the JIT compiler works for under 5 %% of a run (at most"
          + " 5 runs), then the kinds take turns for --runs timed runs each; the fastest of each kind and master"
          + " counts. Default: ${DEFAULT-VALUE}.")
  int repeat;

  @Option(names = "--runs", defaultValue = "3",
      description = "Timed runs of each kind per session, after its warm-up runs. Default: ${DEFAULT-VALUE}.")
  int timedRuns;

  @Option(names = "--speed", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Time inference and calibration on every master (--no-speed skips it). Default: ${DEFAULT-VALUE}.")
  boolean speed;

  @Option(names = "--heap", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Also measure the live heap of every JVM for N vs 10 N rows (--no-heap skips it)."
          + " Default: ${DEFAULT-VALUE}.")
  boolean heap;

  @Override
  public Integer call() throws IOException, InterruptedException {
    RangeMethod rangeMethod;
    List<String> masters;
    try {
      rangeMethod = RangeMethod.parse(method, null);
      Preset.fromCliName(preset);
      masters = localMasters.checked();
      if (rows < 1 || batchSize < 1 || repeat < 1 || timedRuns < 1) {
        throw new IllegalArgumentException("--rows, --batch-size, --repeat and --runs must be >= 1");
      }
      if (data != null) {
        CheckedPaths.requireExists(data, "--data");
      }
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    PrintWriter console = spec.commandLine().getOut();
    Map<String, MasterRuns> runs = new LinkedHashMap<>();
    Map<String, byte[]> models = null; // kind -> model, built in the first session and scored in every one
    // Each of the --repeat rounds gives every master a session of its own in turn, so that a slow spell of this
    // machine (the CPU time per row of the same run swings by tens of percent over minutes here) falls on every
    // master alike. In a session each kind warms up until the JIT compiler is quiet, then the kinds take turns: Spark
    // compiles a new session's query code anew and the JIT compiler then works on it for several runs, on local[1]
    // on the idle core, on local[2] on the tasks' cores. The fastest run of each kind and master counts.
    for (int r = 0; speed && r < repeat; r++) {
      for (String master : masters) {
        SparkSession spark = SparkSessions.create("sparkquant-bench-calibrate", master);
        try (CoreAffinity pinned = localMasters.pin(master)) {
          Workload w = workload(spark, rangeMethod, models == null ? null : models.get(DL4J_FLOAT));
          StageMetrics metrics = StageMetrics.attach(spark.sparkContext());
          MasterRuns m = runs.computeIfAbsent(master, k -> new MasterRuns());
          // The last warm-up's table is the one the int8 export is quantized with.
          Calibrator.Run[] warmUp = new Calibrator.Run[1];
          m.warmUps += JvmCpu.warmUp(() -> warmUp[0] = w.calibrator().fitRun(w.timed()));
          // What a calibrator does on the driver alone before its first fit, once warm: import the DL4J model,
          // export and check the float32.
          long t = System.nanoTime();
          calibrator(w.model(), w.info(), rangeMethod).observedGraph();
          m.importExportNanos = System.nanoTime() - t;
          if (models == null) {
            models = new LinkedHashMap<>();
            models.put(DL4J_FLOAT, w.model());
            models.put(JAVA_FLOAT, w.calibrator().observedModel()); // the very bytes calibration runs
            models.put(JAVA_INT8, TfliteWriter.write(TfliteExporter.export(w.calibrator().observedGraph(),
                ExportOptions.int8(warmUp[0].table().toActivationRanges(), ExportOptions.IoType.FLOAT))));
          }
          for (byte[] model : models.values()) {
            m.warmUps += JvmCpu.warmUp(() -> inference(spark, w, model, metrics, new JvmCpu()));
          }
          // The kinds take turns run by run, so that a slow spell of the machine slows each kind alike and the
          // ratios between them hold (back to back, one kind's three runs could fall in one spell).
          for (int i = 0; i < timedRuns; i++) {
            int mark = metrics.mark();
            JvmCpu before = JvmCpu.now();
            Calibrator.Run c = w.calibrator().fitRun(w.timed());
            JvmCpu used = JvmCpu.now().minus(before);
            m.timedCpu.add(used);
            List<StageMetrics.Stage> stages = metrics.since(mark);
            Rate calibration = new Rate(c.rows(), used.wallNanos, StageMetrics.cpuMillis(stages));
            if (m.best.merge(CALIBRATION, calibration, Rate::faster) == calibration) {
              m.fastest = c;
              m.fastestStages = stages;
            }
            for (Map.Entry<String, byte[]> model : models.entrySet()) {
              m.best.merge(model.getKey(), inference(spark, w, model.getValue(), metrics, m.timedCpu), Rate::faster);
            }
            if (LocalMasters.cores(master) > 1) {
              m.machine.measure(LocalMasters.cores(master));
            }
          }
        } finally {
          spark.stop();
        }
      }
    }
    Map<String, List<Double>> rates = new LinkedHashMap<>();
    runs.forEach((master, m) -> {
      m.best.forEach((kind, rate) -> rates.computeIfAbsent(kind, k -> new ArrayList<>()).add(rate.perSecond()));
      print(console, master, rangeMethod, m);
    });
    for (Map.Entry<String, List<Double>> kind : rates.entrySet()) {
      List<Double> r = kind.getValue();
      for (int i = 1; i < r.size(); i++) {
        console.printf("speed-up %s vs %s: %s %.2fx%n", masters.get(i), masters.get(0), kind.getKey(),
            r.get(i) / r.get(0));
      }
    }
    for (int i = 1; speed && i < masters.size(); i++) {
      console.printf("machine ceiling %s vs %s: %.2fx (the cores' ratio times each master's median per-thread ratio"
              + " of the cache-resident loop)%n", masters.get(i), masters.get(0),
          ceiling(masters.get(i), runs.get(masters.get(i))) / ceiling(masters.get(0), runs.get(masters.get(0))));
    }
    console.flush();
    if (heap) {
      heap(console, rangeMethod, heapMaster != null ? heapMaster : masters.get(masters.size() - 1));
    }
    return 0;
  }

  /** What the timed runs of one master gave: the fastest run of each kind, and where the fastest calibration went. */
  private static final class MasterRuns {
    final Map<String, Rate> best = new LinkedHashMap<>();
    Calibrator.Run fastest;
    List<StageMetrics.Stage> fastestStages;
    long importExportNanos;
    /** The JVM's CPU, JIT and GC time during the timed runs. */
    final JvmCpu timedCpu = new JvmCpu();
    /** The machine's own per-thread scaling to this master's cores, measured after each turn of the kinds. */
    final MachineScaling machine = new MachineScaling();
    int warmUps;
  }

  private static void print(PrintWriter console, String master, RangeMethod rangeMethod, MasterRuns m) {
    Map<String, Rate> best = m.best;
    Calibrator.Run run = m.fastest;
    double calibration = best.get(CALIBRATION).perSecond();
    console.printf("%s: rows/s: calibration (%s, end to end) %.0f; %s inference %.0f; %s inference %.0f;"
            + " %s (evaluation) %.0f%n",
        master, rangeMethod.name(), calibration, JAVA_FLOAT, best.get(JAVA_FLOAT).perSecond(), DL4J_FLOAT,
        best.get(DL4J_FLOAT).perSecond(), JAVA_INT8, best.get(JAVA_INT8).perSecond());
    console.printf("%s: rows per executor CPU-second (task CPU time of the same fastest runs): calibration %.0f;"
            + " %s inference %.0f; %s inference %.0f; %s (evaluation) %.0f%n",
        master, best.get(CALIBRATION).perCpuSecond(), JAVA_FLOAT, best.get(JAVA_FLOAT).perCpuSecond(),
        DL4J_FLOAT, best.get(DL4J_FLOAT).perCpuSecond(), JAVA_INT8, best.get(JAVA_INT8).perCpuSecond());
    console.printf("%s: calibration / %s inference %.2f; calibration / %s inference %.2f; %d rows, %d"
            + " partitions%n",
        master, JAVA_FLOAT, calibration / best.get(JAVA_FLOAT).perSecond(), DL4J_FLOAT,
        calibration / best.get(DL4J_FLOAT).perSecond(), run.rows(), run.partitions());
    console.printf("%s: the JVM used %.2f cores during the timed runs (%.1f s, after %d warm-up runs; JIT compiler"
            + " threads %d ms, GC pauses %d ms)%n",
        master, m.timedCpu.cores(), m.timedCpu.wallNanos / 1e9, m.warmUps, m.timedCpu.jitMillis, m.timedCpu.gcMillis);
    if (!m.machine.isEmpty()) {
      console.printf("%s: the machine between the timed runs: a cache-resident integer loop on %d threads at once did"
              + " %s of one thread's work per thread (median, min-max)%n",
          master, LocalMasters.cores(master), m.machine.summary());
    }
    long stageMillis = m.fastestStages.stream().mapToLong(StageMetrics.Stage::wallMillis).sum();
    console.printf("%s: fastest calibration %d ms = min/max pass %d ms (%.0f rows/s)%s + driver and scheduling"
            + " outside stages %d ms; its stages:%n",
        master, best.get(CALIBRATION).nanos() / 1_000_000, run.minMaxMillis(),
        run.rows() * 1000.0 / Math.max(1, run.minMaxMillis()),
        run.histogramMillis() == 0 ? "" : String.format(Locale.ROOT, " + histogram pass %d ms",
            run.histogramMillis()),
        best.get(CALIBRATION).nanos() / 1_000_000 - stageMillis);
    console.printf("  driver alone before a calibrator's first fit, warm: model import, float32 export and check %d ms%n",
        m.importExportNanos / 1_000_000);
    for (StageMetrics.Stage stage : m.fastestStages) {
      console.printf("  %s%n", stage.describe());
    }
    console.flush();
  }

  /** What {@code master}'s cores can do at most, in single cores: its cores times the machine's per-thread ratio. */
  private static double ceiling(String master, MasterRuns m) {
    int cores = LocalMasters.cores(master);
    return cores == 1 || m.machine.isEmpty() ? cores : cores * m.machine.median();
  }

  /** The live heap of every JVM while calibrating N rows, then about 10 N, in a session with {@link LiveHeapPlugin}. */
  private void heap(PrintWriter console, RangeMethod rangeMethod, String master)
      throws IOException, InterruptedException {
    SparkSession spark = SparkSessions.create("sparkquant-bench-calibrate-heap", master,
        Map.of("spark.plugins", LiveHeapPlugin.class.getName()));
    try {
      Workload w = workload(spark, rangeMethod, null);
      long smallRows = w.small().count();
      long largeRows = w.large().count();
      // Peaks can be shorter than the sampling interval: the N run is repeated so that both are sampled as long.
      int repeats = (int) Math.max(1, Math.round(largeRows / (double) smallRows));
      w.calibrator().fitRun(w.small()); // warm-up
      long[] small = timeWindow(() -> {
        for (int i = 0; i < repeats; i++) {
          w.calibrator().fitRun(w.small());
        }
      });
      long[] large = timeWindow(() -> w.calibrator().fitRun(w.large()));
      Thread.sleep(2 * LiveHeapPlugin.SAMPLE_MILLIS); // executors' last samples are still on the way
      Map<String, LiveHeapPlugin.Peak> smallPeaks = LiveHeapPlugin.peaks(small[0], small[1]);
      Map<String, LiveHeapPlugin.Peak> largePeaks = LiveHeapPlugin.peaks(large[0], large[1]);
      console.printf("%s: peak live heap (heap in use after a full collection forced every %d ms) while calibrating"
              + " N = %d rows (%d times) vs %d rows (%.1fx, once)%s%n",
          master, LiveHeapPlugin.SAMPLE_MILLIS, smallRows, repeats, largeRows, largeRows / (double) smallRows,
          master.startsWith("local") ? "; in local mode the executor runs in the driver JVM" : "");
      largePeaks.forEach((jvm, n10) -> {
        LiveHeapPlugin.Peak n = smallPeaks.get(jvm);
        console.printf("  %s: %s -> %.1f MB, %s (%d and %d samples)%n", jvm,
            n == null ? "-" : String.format(Locale.ROOT, "%.1f MB", mb(n.maxLiveBytes())), mb(n10.maxLiveBytes()),
            n == null ? "no N sample" : String.format(Locale.ROOT, "%+.1f%%",
                100.0 * (n10.maxLiveBytes() - n.maxLiveBytes()) / n.maxLiveBytes()),
            n == null ? 0 : n.samples(), n10.samples());
      });
      console.flush();
    } finally {
      spark.stop();
    }
  }

  /** Epoch milliseconds before and after {@code body}. */
  private static long[] timeWindow(Runnable body) {
    long from = System.currentTimeMillis();
    body.run();
    return new long[] {from, System.currentTimeMillis()};
  }

  /**
   * The benchmark's rows and calibrator on a session: {@code timed} holds the throughput runs' rows, {@code small}
   * about --rows rows and {@code large} about 10x as many (at most the whole dataset) for the heap runs.
   */
  private record Workload(Dataset<Row> timed, Dataset<Row> small, Dataset<Row> large, Calibrator calibrator,
      byte[] model, DatasetInfo info) {}

  /** The workload on a session; {@code model} null for a new preset network. */
  private Workload workload(SparkSession spark, RangeMethod rangeMethod, byte[] model) throws IOException {
    TensorDataset dataset = TensorDatasets.load(spark, data != null ? data : fashionMnist(spark, false));
    // The evaluation figures score the 10,000 Fashion-MNIST test rows: by default the throughput runs read
    // them from a dataset of their own, as evaluate does. Every k-th row of the training set made Parquet decode k
    // rows per scored row (k = 6: about 14 % of a task's CPU time).
    TensorDataset timed = data != null ? dataset : TensorDatasets.load(spark, fashionMnist(spark, true));
    long k = Math.max(1, dataset.rows().count() / rows);
    if (model == null) {
      model = model(dataset.info());
    }
    return new Workload(everyKth(timed, Math.max(1, timed.rows().count() / rows)), everyKth(dataset, k),
        everyKth(dataset, Math.max(1, k / 10)), calibrator(model, dataset.info(), rangeMethod), model,
        dataset.info());
  }

  /** The rows whose id is a multiple of {@code k}: spread over all input partitions. */
  private static Dataset<Row> everyKth(TensorDataset dataset, long k) {
    return dataset.rows().filter(functions.pmod(functions.col("id"), functions.lit(k)).equalTo(0));
  }

  private Calibrator calibrator(byte[] model, DatasetInfo info, RangeMethod rangeMethod) {
    return new Calibrator().setModel(model).setInputShape(info.shape()).setMethod(rangeMethod)
        .setBatchSize(batchSize);
  }

  /** A timed run: rows, wall time, and the CPU time of its tasks. */
  private record Rate(long rows, long nanos, long cpuMillis) {
    double perSecond() {
      return rows / (nanos / 1e9);
    }

    double perCpuSecond() {
      return rows / (Math.max(1, cpuMillis) / 1e3);
    }

    static Rate faster(Rate a, Rate b) {
      return b.nanos < a.nanos ? b : a;
    }
  }

  /**
   * Scores the workload's rows with {@code model} on the executors, as {@code evaluate} does ({@link Scoring}), adding
   * the JVM's CPU, JIT and GC time meanwhile to {@code timedCpu}.
   */
  private Rate inference(SparkSession spark, Workload w, byte[] model, StageMetrics metrics, JvmCpu timedCpu) {
    int mark = metrics.mark();
    JvmCpu before = JvmCpu.now(); // planning included, as calibration's runs include theirs
    Scoring.Scored scored = Scoring.predictions(spark, model, "bench-model", w.timed(), w.info(), batchSize);
    long n = scored.predictions().javaRDD().count();
    JvmCpu used = JvmCpu.now().minus(before);
    timedCpu.add(used);
    scored.destroy();
    return new Rate(n, used.wallNanos, StageMetrics.cpuMillis(metrics.since(mark)));
  }

  private byte[] model(DatasetInfo info) throws IOException {
    MultiLayerNetwork net = new MultiLayerNetwork(Preset.fromCliName(preset).configuration(info, 42, 1e-3, 1.0));
    net.init();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ModelSerializer.writeModel(net, out, false);
    return out.toByteArray();
  }

  /** Fashion-MNIST's training or test split (the installed package, else the bundled subset), converted once. */
  private static String fashionMnist(SparkSession spark, boolean test) {
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "sparkquant-bench-fashion-mnist" + (test ? "-test" : ""));
    if (!Files.isDirectory(dir)) {
      FashionMnist.Location at = FashionMnist.locate(null);
      IdxConverter.convert(spark, test ? at.testImages() : at.trainImages(), test ? at.testLabels() : at.trainLabels(),
          dir.toString(), FashionMnist.CLASS_NAMES, 4);
    }
    return dir.toString();
  }

  private static double mb(long bytes) {
    return bytes / (1024.0 * 1024.0);
  }
}
