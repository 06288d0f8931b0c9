package io.sparkquant.jobs.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code sparkquant cluster-check}: runs one task per slot and reports, per task, where it ran and
 * whether the executor is set up for ND4J and the Java kernels: the javacpp cache dir, OMP_NUM_THREADS, glibc's
 * malloc arenas (MALLOC_ARENA_MAX), the JVM's G1 region size and object alignment, and a small matrix product computed
 * by the native backend. One
 * JSON object per line on stdout, so deploy scripts and the cluster integration tests can check a deployment
 * before running real jobs.
 */
@Command(
    name = "cluster-check",
    mixinStandardHelpOptions = true,
    description = "Run a tiny ND4J job on every executor slot and print where each task ran (JSON lines).")
public final class ClusterCheckCommand implements java.util.concurrent.Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterCheckCommand.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--tasks",
      description = "Number of tasks (partitions); 0 means Spark's default parallelism. Default: ${DEFAULT-VALUE}.",
      defaultValue = "0")
  int tasks;

  @Override
  public Integer call() throws JsonProcessingException {
    if (tasks < 0) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--tasks must be >= 0 (0 = default parallelism), got " + tasks);
    }
    SparkSession spark = SparkSession.builder().appName("sparkquant cluster-check").getOrCreate();
    try {
      JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      int n = tasks == 0 ? sc.defaultParallelism() : tasks;
      long startNanos = System.nanoTime();
      List<Map<String, Object>> reports =
          sc.parallelize(IntStream.range(0, n).boxed().toList(), n)
              .map(ClusterCheckCommand::checkExecutor)
              .collect();
      LOG.info("cluster-check: {} tasks on master {} in {} ms", n, sc.master(),
          (System.nanoTime() - startNanos) / 1_000_000);
      ObjectMapper json = new ObjectMapper();
      PrintWriter out = spec.commandLine().getOut();
      for (Map<String, Object> report : reports) {
        out.println(json.writeValueAsString(report));
      }
      out.flush();
      return 0;
    } finally {
      spark.stop();
    }
  }

  /** Runs on an executor: where am I, how is ND4J set up, and does its native backend compute. */
  private static Map<String, Object> checkExecutor(int partition) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("partition", partition);
    r.put("executorId", SparkEnv.get().executorId());
    r.put("pid", ProcessHandle.current().pid());
    r.put("javacppCacheDir", System.getProperty("org.bytedeco.javacpp.cachedir"));
    r.put("ompNumThreads", System.getenv("OMP_NUM_THREADS"));
    r.put("mallocArenaMax", System.getenv("MALLOC_ARENA_MAX"));
    HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    r.put("g1HeapRegionSize", vm.getVMOption("G1HeapRegionSize").getValue());
    r.put("objectAlignmentInBytes", vm.getVMOption("ObjectAlignmentInBytes").getValue());
    // [[1,2],[3,4]] x [[1,2],[3,4]] = [[7,10],[15,22]]: sum 54.
    INDArray a = Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}});
    r.put("nd4jBackend", Nd4j.getBackend().getClass().getSimpleName());
    r.put("nd4jProductSum", a.mmul(a).sumNumber().doubleValue());
    return r;
  }
}
