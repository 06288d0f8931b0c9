package io.sparkquant.jobs.bench;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.IdxFile;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.ExportMode;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkquant bench-interpreter} (hidden): inference rows/s of one preset network (freshly initialised; the cost
 * does not depend on the weights) on Fashion-MNIST test images, in one JVM and one run, for each engine: the Java
 * interpreter on the int8 and the float32 export, DL4J on the float network, and the TFLite 2.6.2 runtime on both
 * exports; for 1 and 2 threads (each thread scores every k-th batch with its own engine instance, the Java
 * interpreter being shared). Best of {@code --repeat}, engines interleaved so that a busy machine slows them alike,
 * after untimed runs: the Java engines' first {@value #JAVA_WARM_UP_CALLS} model calls, then rounds of every engine
 * until the JIT compiler is quiet. Run it with {@code OMP_NUM_THREADS=1} (the launcher's default) so that ND4J
 * uses one thread per calling thread.
 *
 * <p>{@code --litert} adds LiteRT (npm {@code @litertjs/core}, XNNPACK in WebAssembly under Node, one thread, one image
 * per call) on the same two .tflite files and rows, its passes interleaved with the first thread count's rounds, and
 * reports Java images/s per thread over LiteRT's and their top-1 agreement. It is opt-in, not detected from a node on
 * PATH, because its first use installs the npm package and a figure should not appear or vanish with the PATH.
 * {@code --profile-ops} adds where the Java int8 interpreter's time goes on one thread ({@link OpProfile}).
 */
@Command(name = "bench-interpreter", hidden = true, mixinStandardHelpOptions = true, sortOptions = false,
    description = "Benchmark: inference rows/s of the Java interpreter (int8, float32), DL4J (float) and TFLite "
        + "2.6.2 (int8, float32) on one preset network, for 1 and 2 threads, with ratios. --litert adds LiteRT "
        + "(npm @litertjs/core, XNNPACK wasm under Node, 1 thread) on the same .tflite files and rows: Java "
        + "images/s per thread / LiteRT and top-1 agreement. --profile-ops adds the Java int8 time per op.")
public final class BenchInterpreterCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--preset", defaultValue = "cnn", description = "Network: cnn, micro or mlp. Default: ${DEFAULT-VALUE}.")
  String preset;

  @Option(names = "--rows", defaultValue = "2000",
      description = "Test images scored per timed run (rounded down to whole batches). Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(names = "--batch-size", defaultValue = "64", description = "Rows per call. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(names = "--threads", split = ",", defaultValue = "1,2",
      description = "Thread counts to compare. Default: ${DEFAULT-VALUE}.")
  List<Integer> threads;

  @Option(names = "--repeat", defaultValue = "3",
      description = "Timed runs per engine and thread count; the fastest counts. Default: ${DEFAULT-VALUE}.")
  int repeat;

  @Option(names = "--calibration-rows", defaultValue = "500",
      description = "Training images whose min/max ranges the int8 export uses. Default: ${DEFAULT-VALUE}.")
  int calibrationRows;

  @Option(names = "--litert",
      description = "Also run LiteRT (npm @litertjs/core under Node, XNNPACK wasm, 1 thread) on the same .tflite "
          + "files and rows, interleaved with the first thread count's runs; needs node and npm on PATH (the first "
          + "run installs the package in --litert-dir). See deploy/bench/litert/README.md.")
  boolean litert;

  @Option(names = "--litert-dir",
      description = "The directory holding litert.sh. Default: deploy/bench/litert of the checkout this jar was "
          + "built in, else of the working directory.")
  Path litertDir;

  @Option(names = "--profile-ops", paramLabel = "SECONDS", defaultValue = "0",
      description = "After the benchmark, profile the Java int8 interpreter on one thread for this many seconds "
          + "(JFR execution samples): share of time per op and interpreter overhead. Default: 0 (off).")
  int profileSeconds;

  private static final String JAVA_INT8 = "java int8";
  private static final String JAVA_FLOAT = "java float32";
  private static final String DL4J_FLOAT = "dl4j float";
  private static final String TFLITE_INT8 = "tflite int8";
  private static final String TFLITE_FLOAT = "tflite float32";
  private static final String LITERT_INT8 = "litert int8";
  private static final String LITERT_FLOAT = "litert float32";
  /** Model calls of each Java engine before any timing (see {@code run}). */
  private static final int JAVA_WARM_UP_CALLS = 2_000;

  @Override
  public Integer call() throws IOException, InterruptedException, ExecutionException {
    Preset p;
    try {
      p = Preset.fromCliName(preset);
      if (rows < 1 || batchSize < 1 || repeat < 1 || calibrationRows < 1 || rows < batchSize || profileSeconds < 0) {
        throw new IllegalArgumentException("--rows, --batch-size, --repeat and --calibration-rows must be >= 1,"
            + " --rows >= --batch-size and --profile-ops >= 0");
      }
      for (int t : threads) {
        if (t < 1) {
          throw new IllegalArgumentException("--threads entries must be >= 1, got " + t);
        }
      }
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    PrintWriter console = spec.commandLine().getOut();
    FashionMnist.Location at = FashionMnist.locate(null);
    int[] shape = {28, 28, 1};
    int itemSize = shape[0] * shape[1] * shape[2];
    DatasetInfo info = new DatasetInfo(shape, FashionMnist.CLASS_NAMES);
    MultiLayerNetwork net = new MultiLayerNetwork(p.configuration(info, 42, 1e-3, 1.0));
    net.init();
    Graph graph = Dl4jImporter.importNetwork(net, shape);

    float[] calibration = images(Path.of(at.trainImages()), calibrationRows);
    ActivationRanges ranges = minMax(graph, net, calibration, calibration.length / itemSize, batchSize);
    byte[] float32 = TfliteWriter.write(TfliteExporter.export(graph, ExportOptions.of(ExportMode.FLOAT32)));
    byte[] int8 = TfliteWriter.write(TfliteExporter.export(graph,
        ExportOptions.int8(ranges, ExportOptions.IoType.FLOAT)));

    int batches = rows / batchSize;
    float[] test = images(Path.of(at.testImages()), batches * batchSize);
    batches = test.length / itemSize / batchSize;
    List<float[]> nhwc = new ArrayList<>();
    List<INDArray> dl4j = new ArrayList<>();
    for (int b = 0; b < batches; b++) {
      float[] x = java.util.Arrays.copyOfRange(test, b * batchSize * itemSize, (b + 1) * batchSize * itemSize);
      nhwc.add(x);
      dl4j.add(Dl4jActivations.toDl4jInput(graph, x, batchSize));
    }
    Interpreter javaInt8 = new Interpreter(TfliteReader.read(int8));
    Interpreter javaFloat = new Interpreter(TfliteReader.read(float32));
    // per thread: a factory of one engine instance, which scores batch i when given i
    Map<String, Supplier<Engine>> engines = new LinkedHashMap<>();
    engines.put(JAVA_INT8, () -> Engine.of(i -> javaInt8.run((Object) nhwc.get(i))));
    engines.put(JAVA_FLOAT, () -> Engine.of(i -> javaFloat.run((Object) nhwc.get(i))));
    engines.put(DL4J_FLOAT, () -> {
      MultiLayerNetwork copy = net.clone();
      return Engine.of(i -> copy.output(dl4j.get(i), false));
    });
    engines.put(TFLITE_INT8, () -> tflite(int8, nhwc));
    engines.put(TFLITE_FLOAT, () -> tflite(float32, nhwc));

    console.printf("bench-interpreter: %s preset, %d Fashion-MNIST test rows per run in batches of %d, best of %d;"
            + " int8 = full-integer export with float I/O (min/max over %d training rows); TFLite %s%n",
        p.cliName(), batches * batchSize, batchSize, repeat, calibration.length / itemSize,
        TfliteRuntime.runtimeVersion());
    console.flush();
    LiteRtBench lite = null;
    Map<String, int[]> javaTop1 = new LinkedHashMap<>();
    if (litert) {
      Path work = java.nio.file.Files.createTempDirectory("sparkquant-litert");
      Path int8File = java.nio.file.Files.write(work.resolve("int8.tflite"), int8);
      Path floatFile = java.nio.file.Files.write(work.resolve("float32.tflite"), float32);
      Path rowsFile = work.resolve("rows.bin");
      LiteRtBench.writeRows(rowsFile, test, shape);
      Map<String, Path> models = new LinkedHashMap<>();
      models.put("int8", int8File);
      models.put("float32", floatFile);
      lite = LiteRtBench.start(litertDir != null ? litertDir : defaultLitertDir(), rowsFile, models, work);
      javaTop1.put("int8", top1(javaInt8, nhwc, itemSize));
      javaTop1.put("float32", top1(javaFloat, nhwc, itemSize));
      console.printf("litert: %s; files and rows in %s%n", lite.description(), work);
      console.flush();
    }
    try {
      run(console, engines, batches, lite, javaTop1);
    } finally {
      if (lite != null) {
        lite.close();
      }
    }
    if (profileSeconds > 0) {
      OpProfile.run(javaInt8, nhwc, java.time.Duration.ofSeconds(profileSeconds), console);
    }
    console.flush();
    return 0;
  }

  /** The timed rounds for every thread count, LiteRT's passes in the first one's, and the report. */
  private void run(PrintWriter console, Map<String, Supplier<Engine>> engines, int batches, LiteRtBench lite,
      Map<String, int[]> javaTop1) throws IOException, InterruptedException, ExecutionException {
    Map<Integer, Map<String, Double>> rates = new LinkedHashMap<>();
    Map<String, int[]> liteTop1 = new LinkedHashMap<>();
    for (int t : threads) {
      boolean withLite = lite != null && t == threads.get(0);
      Map<String, Double> best = new LinkedHashMap<>();
      Map<String, Double> bestCpu = new LinkedHashMap<>();
      List<List<Engine>> instances = new ArrayList<>();
      for (Supplier<Engine> factory : engines.values()) {
        List<Engine> perThread = new ArrayList<>();
        for (int k = 0; k < t; k++) {
          perThread.add(factory.get());
        }
        instances.add(perThread);
      }
      ExecutorService pool = Executors.newFixedThreadPool(t);
      try {
        List<String> names = new ArrayList<>(engines.keySet());
        // Untimed: the Java engines until JAVA_WARM_UP_CALLS model calls, then every engine until the JIT compiler
        // is quiet (JvmCpu). HotSpot compiles a kernel method whole only after some thousand calls; until then its
        // loops run as on-stack-replacement code. With one warm-up round, whichever thread count ran first was timed
        // on that code: int8 2,783 and float32 1,652 rows per CPU-second at 2 threads, then 4,033 and 3,965 at 1
        // thread in the same run (2026-12-07, --threads 2,1).
        for (int e = 0; t == threads.get(0) && e < names.size(); e++) {
          for (int calls = 0; names.get(e).startsWith("java") && calls < JAVA_WARM_UP_CALLS; calls += batches) {
            time(pool, instances.get(e), batches);
          }
        }
        for (int w = 1; w <= JvmCpu.MAX_WARM_UPS; w++) {
          JvmCpu before = JvmCpu.now();
          for (List<Engine> perThread : instances) {
            time(pool, perThread, batches);
          }
          if (JvmCpu.now().minus(before).jitQuiet()) {
            break;
          }
        }
        for (int r = 1; r <= repeat; r++) {
          for (int e = 0; e < names.size(); e++) {
            Timing timing = time(pool, instances.get(e), batches);
            double n = (double) batches * batchSize;
            best.merge(names.get(e), n / (timing.wallNanos() / 1e9), Math::max);
            bestCpu.merge(names.get(e), n / (timing.cpuNanos() / 1e9), Math::max);
          }
          for (String model : withLite ? javaTop1.keySet() : List.<String>of()) {
            LiteRtBench.Pass pass = lite.run(model);
            liteTop1.put(model, pass.argmax());
            best.merge("litert " + model, pass.imagesPerSecond(), Math::max);
            bestCpu.merge("litert " + model, pass.imagesPerCpuSecond(), Math::max);
          }
        }
      } finally {
        pool.shutdown();
        instances.forEach(list -> list.forEach(Engine::close));
      }
      rates.put(t, best);
      console.printf("%d thread%s, rows/s: %s%n", t, t == 1 ? "" : "s", format(best));
      console.printf("  ratios by wall clock: %s%n", ratios(best));
      console.printf("%d thread%s, rows per CPU-second of the scoring threads: %s%n", t, t == 1 ? "" : "s",
          format(bestCpu));
      console.printf("  ratios by CPU time: %s%n", ratios(bestCpu));
      if (withLite) {
        console.printf("  litert (1 thread, one image per call) vs java (%d thread%s, batches of %d), images/s per"
                + " thread: java int8 / litert int8 = %.2f (goal >= 0.5); java float32 / litert float32 = %.2f%n",
            t, t == 1 ? "" : "s", batchSize, best.get(JAVA_INT8) / t / best.get(LITERT_INT8),
            best.get(JAVA_FLOAT) / t / best.get(LITERT_FLOAT));
        console.printf("  the same per CPU-second (litert: the Node process's CPU time): java int8 / litert int8 = %.2f;"
                + " java float32 / litert float32 = %.2f%n", bestCpu.get(JAVA_INT8) / bestCpu.get(LITERT_INT8),
            bestCpu.get(JAVA_FLOAT) / bestCpu.get(LITERT_FLOAT));
        for (String model : javaTop1.keySet()) {
          console.printf("  top-1 agreement, litert %s vs java %s: %s%n", model, model,
              agreement(javaTop1.get(model), liteTop1.get(model)));
        }
      }
      console.flush();
    }
    if (rates.size() > 1) {
      int first = threads.get(0);
      for (int t : threads.subList(1, threads.size())) {
        StringBuilder sb = new StringBuilder();
        for (String name : engines.keySet()) {
          sb.append(sb.length() == 0 ? "" : ", ").append(String.format(java.util.Locale.ROOT, "%s %.2fx", name,
              rates.get(t).get(name) / rates.get(first).get(name)));
        }
        console.printf("speed-up %d -> %d threads: %s%n", first, t, sb);
      }
    }
  }

  /** deploy/bench/litert of the checkout whose jobs/target holds this jar, else of the working directory. */
  private static Path defaultLitertDir() {
    try {
      Path jar = Path.of(BenchInterpreterCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      // .../<checkout>/jobs/target/sparkquant-app.jar (or .../jobs/target/classes)
      Path checkout = jar.getParent() == null || jar.getParent().getParent() == null ? null
          : jar.getParent().getParent().getParent();
      if (checkout != null) {
        Path dir = checkout.resolve("deploy/bench/litert");
        if (java.nio.file.Files.isRegularFile(dir.resolve("litert.sh"))) {
          return dir;
        }
      }
    } catch (java.net.URISyntaxException | SecurityException | IllegalArgumentException e) {
      // not a file on disk: fall back to the working directory
    }
    return Path.of("deploy/bench/litert");
  }

  /** The top-1 class of every row, batch by batch (first maximum, as bench.mjs picks it). */
  static int[] top1(Interpreter interpreter, List<float[]> batches, int itemSize) {
    List<Integer> classes = new ArrayList<>();
    for (float[] x : batches) {
      float[] out = (float[]) interpreter.run((Object) x)[0];
      int rowsIn = x.length / itemSize;
      int perRow = out.length / rowsIn;
      for (int row = 0; row < rowsIn; row++) {
        int best = 0;
        for (int k = 1; k < perRow; k++) {
          if (out[row * perRow + k] > out[row * perRow + best]) {
            best = k;
          }
        }
        classes.add(best);
      }
    }
    return classes.stream().mapToInt(Integer::intValue).toArray();
  }

  /** "same/n (percent)", or why there is no figure. */
  static String agreement(int[] a, int[] b) {
    if (b == null || a.length != b.length) {
      return "not comparable (" + a.length + " vs " + (b == null ? "no" : b.length) + " rows)";
    }
    int same = 0;
    for (int i = 0; i < a.length; i++) {
      same += a[i] == b[i] ? 1 : 0;
    }
    return String.format(java.util.Locale.ROOT, "%d/%d (%.2f%%)", same, a.length, 100.0 * same / a.length);
  }

  /** One engine instance used by one thread. */
  private interface Engine extends AutoCloseable {
    void score(int batch);

    @Override
    default void close() {}

    static Engine of(IntConsumer score) {
      return score::accept;
    }
  }

  private Engine tflite(byte[] model, List<float[]> nhwc) {
    TfliteRuntime rt = TfliteRuntime.create(model, 1);
    rt.resizeBatch(batchSize);
    return new Engine() {
      @Override
      public void score(int batch) {
        rt.run((Object) nhwc.get(batch));
      }

      @Override
      public void close() {
        rt.close();
      }
    };
  }

  /** One timed run: wall-clock nanoseconds and the CPU nanoseconds of the scoring threads. */
  private record Timing(long wallNanos, long cpuNanos) {}

  /** Thread k scores batches k, k + t, k + 2t, ... with its own engine instance. */
  private static Timing time(ExecutorService pool, List<Engine> perThread, int batches)
      throws InterruptedException, ExecutionException {
    int t = perThread.size();
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long start = System.nanoTime();
    List<Future<Long>> done = new ArrayList<>();
    for (int k = 0; k < t; k++) {
      Engine e = perThread.get(k);
      int first = k;
      done.add(pool.submit(() -> {
        long cpu = mx.getCurrentThreadCpuTime();
        for (int b = first; b < batches; b += t) {
          e.score(b);
        }
        return mx.getCurrentThreadCpuTime() - cpu;
      }));
    }
    long cpu = 0;
    for (Future<Long> f : done) {
      cpu += f.get();
    }
    return new Timing(System.nanoTime() - start, cpu);
  }

  /** The first {@code n} images of an IDX file as NHWC floats, pixels scaled as the converter does (byte / 255). */
  private static float[] images(Path file, int n) throws IOException {
    IdxFile.Contents c = IdxFile.read(file, IdxFile.IMAGES_MAGIC);
    int item = c.header().recordBytes();
    int count = Math.min(n, c.header().count());
    float[] x = new float[count * item];
    for (int i = 0; i < x.length; i++) {
      x[i] = (c.data()[i] & 0xff) / 255f;
    }
    return x;
  }

  /** Min/max of every graph tensor over the rows, in process (a benchmark needs no distributed calibration). */
  private static ActivationRanges minMax(Graph graph, MultiLayerNetwork net, float[] x, int n, int batch) {
    int item = graph.input().itemSize();
    Map<String, float[]> ranges = new LinkedHashMap<>();
    for (int start = 0; start < n; start += batch) {
      int b = Math.min(batch, n - start);
      INDArray in = Dl4jActivations.toDl4jInput(graph,
          java.util.Arrays.copyOfRange(x, start * item, (start + b) * item), b);
      for (Map.Entry<String, INDArray> e : Dl4jActivations.collect(graph, net, in).entrySet()) {
        float min = e.getValue().minNumber().floatValue();
        float max = e.getValue().maxNumber().floatValue();
        ranges.merge(e.getKey(), new float[] {min, max},
            (a, c) -> new float[] {Math.min(a[0], c[0]), Math.max(a[1], c[1])});
      }
    }
    return ActivationRanges.of(ranges, "minmax");
  }

  private static String ratios(Map<String, Double> r) {
    return String.format(java.util.Locale.ROOT, "java int8 / dl4j float = %.2f; java float32 / dl4j float = %.2f;"
            + " java int8 / tflite int8 = %.2f; java float32 / tflite float32 = %.2f; java int8 / java float32 = %.2f",
        r.get(JAVA_INT8) / r.get(DL4J_FLOAT), r.get(JAVA_FLOAT) / r.get(DL4J_FLOAT),
        r.get(JAVA_INT8) / r.get(TFLITE_INT8), r.get(JAVA_FLOAT) / r.get(TFLITE_FLOAT),
        r.get(JAVA_INT8) / r.get(JAVA_FLOAT));
  }

  private static String format(Map<String, Double> rates) {
    StringBuilder sb = new StringBuilder();
    rates.forEach((name, r) -> sb.append(sb.length() == 0 ? "" : ", ")
        .append(String.format(java.util.Locale.ROOT, "%s %.0f rows/s", name, r)));
    return sb.toString();
  }
}
