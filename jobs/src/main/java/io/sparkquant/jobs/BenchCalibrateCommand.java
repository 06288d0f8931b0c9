package io.sparkquant.jobs;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.IdxConverter;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.jobs.eval.Scoring;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.ops.calib.RangeMethod;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkquant bench-calibrate} (hidden): calibration throughput against plain float inference of the same
 * model on the same rows and cores, the speed-up between local masters, and the heap used to calibrate N vs 10N
 * rows. Run it with {@code OMP_NUM_THREADS=1} so that a local[k] master uses k cores (one ND4J thread per task).
 */
@Command(name = "bench-calibrate", hidden = true, mixinStandardHelpOptions = true, sortOptions = false,
    description = "Benchmark: calibration rows/s vs float inference rows/s, local[1] vs local[2], heap for N vs 10N"
        + " rows.")
public final class BenchCalibrateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--data", description = "Dataset (Parquet tensor format). Default: Fashion-MNIST train (the "
      + "installed package, else the bundled subset) converted to <java.io.tmpdir>/sparkquant-bench-fashion-mnist.")
  String data;

  @Option(names = "--preset", defaultValue = "cnn",
      description = "Model: a freshly initialised preset network (cnn or mlp; inference cost does not depend on the"
          + " weights). Default: ${DEFAULT-VALUE}.")
  String preset;

  @Option(names = "--rows", defaultValue = "5000",
      description = "N: rows for the throughput runs; the heap run also uses about 10 N. Default: ${DEFAULT-VALUE}.")
  long rows;

  @Option(names = "--method", defaultValue = "minmax",
      description = "Range method of the calibration runs. Default: ${DEFAULT-VALUE}.")
  String method;

  @Option(names = "--batch-size", defaultValue = "64",
      description = "Rows per model call, for calibration and inference alike. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(names = "--masters", split = ",", defaultValue = "local[1],local[2]",
      description = "Local masters to compare; the heap runs use the last. Default: ${DEFAULT-VALUE}.")
  List<String> masters;

  @Option(names = "--repeat", defaultValue = "3",
      description = "Timed runs of inference and calibration per master; the fastest of each counts."
          + " Default: ${DEFAULT-VALUE}.")
  int repeat;

  @Option(names = "--heap", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Also measure the heap for N vs 10 N rows (--no-heap skips it). Default: ${DEFAULT-VALUE}.")
  boolean heap;

  @Override
  public Integer call() throws IOException {
    RangeMethod rangeMethod;
    try {
      rangeMethod = RangeMethod.parse(method, null);
      Preset.fromCliName(preset);
      for (String m : masters) {
        if (!m.matches("local\\[\\d+]")) {
          throw new IllegalArgumentException("--masters entries must look like local[N], got " + m);
        }
      }
      if (rows < 1 || batchSize < 1 || repeat < 1) {
        throw new IllegalArgumentException("--rows, --batch-size and --repeat must be >= 1");
      }
      if (data != null) {
        CheckedPaths.requireExists(data, "--data");
      }
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    PrintWriter console = spec.commandLine().getOut();
    List<Double> calibrationRates = new ArrayList<>();
    for (int m = 0; m < masters.size(); m++) {
      String master = masters.get(m);
      SparkSession spark = SparkSessions.create("sparkquant-bench-calibrate", master);
      try {
        String dir = data != null ? data : fashionMnist(spark);
        TensorDataset dataset = TensorDatasets.load(spark, dir);
        long total = dataset.rows().count();
        // Every k-th id keeps the rows spread over all input partitions; `small` has a tenth of `large`.
        long k = Math.max(1, total / (10 * rows));
        Dataset<Row> large = dataset.rows().filter(functions.pmod(functions.col("id"), functions.lit(k)).equalTo(0));
        Dataset<Row> small = dataset.rows().filter(functions.pmod(functions.col("id"), functions.lit(10 * k))
            .equalTo(0));
        byte[] model = model(dataset.info());
        Calibrator calibrator = new Calibrator().setModel(model).setInputShape(dataset.info().shape())
            .setMethod(rangeMethod).setBatchSize(batchSize);

        inference(spark, model, small, dataset.info()); // warm-up: JIT, ND4J, page cache
        calibrator.fitRun(small);
        // Best of --repeat alternating runs: a shared machine only ever makes a run slower.
        Rate inference = null;
        Rate calibration = null;
        Calibrator.Run run = null;
        for (int r = 0; r < repeat; r++) {
          Rate i = inference(spark, model, small, dataset.info());
          inference = inference == null || i.nanos() < inference.nanos() ? i : inference;
          long t0 = System.nanoTime();
          Calibrator.Run c = calibrator.fitRun(small);
          long nanos = System.nanoTime() - t0;
          if (calibration == null || nanos < calibration.nanos()) {
            calibration = new Rate(c.rows(), nanos);
            run = c;
          }
        }
        calibrationRates.add(calibration.perSecond());
        console.printf("%s: float inference %.0f rows/s; calibration (%s, end to end) %.0f rows/s = %.2f of "
                + "inference; min/max pass alone %.0f rows/s, histogram pass alone %s (%d rows, %d batches, %d "
                + "partitions)%n",
            master, inference.perSecond(), rangeMethod.name(), calibration.perSecond(),
            calibration.perSecond() / inference.perSecond(), run.rows() * 1000.0 / Math.max(1, run.minMaxMillis()),
            run.histogramMillis() == 0 ? "-"
                : String.format(Locale.ROOT, "%.0f rows/s", run.rows() * 1000.0 / run.histogramMillis()),
            run.rows(), run.batches(), run.partitions());
        console.flush();

        if (heap && m == masters.size() - 1) {
          HeapPeak smallHeap = heapDuring(() -> calibrator.fitRun(small));
          HeapPeak largeHeap = heapDuring(() -> calibrator.fitRun(large));
          long smallRows = small.count();
          long largeRows = large.count();
          console.printf("%s heap (driver = executor in local mode), N = %d rows: max live %.1f MB, peak used"
                  + " %.1f MB; %d rows: max live %.1f MB, peak used %.1f MB; growth of live heap %.1f%% for %.1fx"
                  + " rows (live heap sampled %d and %d times, each after a full GC)%n",
              master, smallRows, mb(smallHeap.maxLive()), mb(smallHeap.peakUsed()), largeRows,
              mb(largeHeap.maxLive()), mb(largeHeap.peakUsed()),
              100.0 * (largeHeap.maxLive() - smallHeap.maxLive()) / smallHeap.maxLive(),
              largeRows / (double) smallRows, smallHeap.samples(), largeHeap.samples());
          console.flush();
        }
      } finally {
        spark.stop();
      }
    }
    for (int i = 1; i < calibrationRates.size(); i++) {
      console.printf("calibration speed-up %s vs %s: %.2fx%n", masters.get(i), masters.get(0),
          calibrationRates.get(i) / calibrationRates.get(0));
    }
    console.flush();
    return 0;
  }

  private record Rate(long rows, long nanos) {
    double perSecond() {
      return rows / (nanos / 1e9);
    }
  }

  private Rate inference(SparkSession spark, byte[] model, Dataset<Row> rows, DatasetInfo info) {
    Scoring.Scored scored = Scoring.predictions(spark, model, "bench-model", rows, info, batchSize);
    long t0 = System.nanoTime();
    long n = scored.predictions().javaRDD().count();
    long nanos = System.nanoTime() - t0;
    scored.model().destroy();
    return new Rate(n, nanos);
  }

  private byte[] model(DatasetInfo info) throws IOException {
    MultiLayerNetwork net = new MultiLayerNetwork(Preset.fromCliName(preset).configuration(info, 42, 1e-3, 1.0));
    net.init();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ModelSerializer.writeModel(net, out, false);
    return out.toByteArray();
  }

  private static String fashionMnist(SparkSession spark) {
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "sparkquant-bench-fashion-mnist");
    if (!Files.isDirectory(dir)) {
      FashionMnist.Location at = FashionMnist.locate(null);
      IdxConverter.convert(spark, at.trainImages(), at.trainLabels(), dir.toString(), FashionMnist.CLASS_NAMES, 4);
    }
    return dir.toString();
  }

  private static double mb(long bytes) {
    return bytes / (1024.0 * 1024.0);
  }

  /**
   * Heap figures over one run.
   *
   * @param maxLive the largest heap in use right after one of the full collections forced during the run (live
   *     objects plus what running tasks allocated since)
   * @param peakUsed the heap pools' peak usage, garbage included
   * @param samples how many full collections measured the live heap
   */
  record HeapPeak(long maxLive, long peakUsed, long samples) {}

  static final long LIVE_HEAP_SAMPLE_MILLIS = 1000;

  /**
   * Runs {@code body} while a sampler forces a full collection every {@link #LIVE_HEAP_SAMPLE_MILLIS} and reads
   * the heap in use right after it: the live set plus what the running tasks allocated since, an upper bound
   * that does not count the garbage a young collection leaves in the old generation. (Reading the class
   * histogram instead, as jmap -histo:live does, crashed ND4J's native code once; not used.)
   */
  static HeapPeak heapDuring(Runnable body) {
    System.gc();
    List<MemoryPoolMXBean> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP).toList();
    heapPools.forEach(MemoryPoolMXBean::resetPeakUsage);
    AtomicLong maxLive = new AtomicLong();
    AtomicLong samples = new AtomicLong();
    Runnable sample = () -> {
      System.gc();
      maxLive.accumulateAndGet(heapPools.stream().mapToLong(p -> p.getUsage().getUsed()).sum(), Math::max);
      samples.incrementAndGet();
    };
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "live-heap-sampler");
      t.setDaemon(true);
      return t;
    });
    sampler.scheduleAtFixedRate(sample, LIVE_HEAP_SAMPLE_MILLIS, LIVE_HEAP_SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
    try {
      body.run();
    } finally {
      sampler.shutdown();
      try {
        sampler.awaitTermination(1, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    long peak = heapPools.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
    return new HeapPeak(maxLive.get(), peak, samples.get());
  }

}
