package io.sparkquant.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.testing.SharedSpark;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Faults on a real standalone cluster (master + 2 one-core workers, separate JVMs): a real executor JVM is killed
 * with SIGKILL while it runs a task of a known job, and the job must end as an undisturbed run on the same cluster
 * does. The point is chosen with {@link BlockingTaskPlugin}, a test-only Spark plugin that holds the first task of
 * a named job (job descriptions: "calibrate: pass 2", "evaluate: write predictions", "train: epoch 1, round 2/")
 * and reports its executor's pid; the test checks that the pid is a CoarseGrainedExecutorBackend launched by one
 * of this cluster's workers and kills it.
 *
 * <p>Recovery uses Spark's defaults as deploy/submit.sh leaves them: a task may fail 4 times
 * ({@code spark.task.maxFailures}), lost shuffle output and cached blocks are recomputed from their lineage, and the
 * master relaunches a failed executor on a live worker. No result depends on which executor runs a partition
 * (row-independent calibration, fixed training partitions: CalibrateClusterIT, TrainEvaluateClusterIT), so the faulted
 * run's outputs must equal the undisturbed run's exactly.
 *
 * <p>The worker-loss case runs last: it leaves the cluster with one worker.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultInjectionClusterIT {

  private static final Logger LOG = LoggerFactory.getLogger(FaultInjectionClusterIT.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long BLOCK_TIMEOUT_MILLIS = 480_000;

  @TempDir static Path work;
  private static StandaloneCluster cluster;
  private static Path model;
  private static Path data;
  private static Path pluginJar;

  @BeforeAll
  static void setUp() throws IOException {
    model = ClusterInputs.cnnModel(work);
    // five classes with a little signal, for the train case
    data = ClusterInputs.gaussianDataset(work.resolve("data"), 13, 5, 7000, 0.1f);
    pluginJar = pluginJar(work.resolve("blocking-task-plugin.jar"));
    // generous: on a shared, overloaded 2-core machine one submit took over 5 minutes (about 30 s when idle)
    cluster = StandaloneCluster.builder().workers(2).coresPerWorker(1).workerMemory("3g")
        .submitTimeout(Duration.ofMinutes(12)).start();
  }

  @AfterAll
  static void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void executorKilledMidCalibrationLeavesTheTableByteIdentical() throws Exception {
    Path reference = work.resolve("calibrate-reference/table.json");
    requireSuccess("undisturbed calibrate", cluster.submit(calibrate(reference)));
    Path faulted = work.resolve("calibrate-faulted/table.json");
    // pass 2 reads pass 1's shuffle output: the killed executor's share of it is lost and recomputed
    Fault fault = runKillingExecutor("calibrate: pass 2", false, calibrate(faulted));
    requireSuccess("calibrate with an executor killed", fault.run());
    assertRecoveredFrom(fault);
    assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(faulted),
        "the table of the faulted run differs from the undisturbed run's");
  }

  @Test
  @Order(2)
  void executorKilledMidEvaluateGivesIdenticalMetrics() throws Exception {
    Path reference = work.resolve("evaluate-reference");
    requireSuccess("undisturbed evaluate", cluster.submit(evaluate(reference)));
    Path faulted = work.resolve("evaluate-faulted");
    // the scored rows are cached on both executors by then: the killed one's blocks are recomputed, and the
    // killed task's attempt at writing predictions is discarded by the output committer
    Fault fault = runKillingExecutor("evaluate: write predictions", false, evaluate(faulted));
    requireSuccess("evaluate with an executor killed", fault.run());
    assertRecoveredFrom(fault);
    JsonNode expected = JSON.readTree(reference.resolve("metrics.json").toFile());
    assertEquals(expected, JSON.readTree(faulted.resolve("metrics.json").toFile()),
        "metrics.json of the faulted run differs from the undisturbed run's");
    assertEquals(600, expected.path("rows").asLong());
    Dataset<Row> predictions = SharedSpark.get().read().parquet(faulted.resolve("predictions.parquet").toString());
    assertEquals(600, predictions.count(), "predictions: a row lost or written twice");
    assertEquals(600, predictions.select("id").distinct().count(), "predictions: an id written twice");
  }

  /**
   * A worker lost mid-train (its Worker JVM and its executor killed together, as when a machine dies): the job goes
   * on with the other worker's executor, recomputes the lost cached partitions from the data (the same rows in the
   * same order: hash-partitioned and sorted by id) and writes the same model as an undisturbed run. This is the
   * documented behaviour (README, Reliability).
   */
  @Test
  @Order(3)
  void workerLostMidTrainCompletesWithTheSameModel() throws Exception {
    Path reference = work.resolve("train-reference");
    requireSuccess("undisturbed train", cluster.submit(train(reference)));
    Path faulted = work.resolve("train-faulted");
    Fault fault = runKillingExecutor("train: epoch 1, round 2/", true, train(faulted));
    requireSuccess("train with a worker lost", fault.run());
    assertTrue(fault.run().output().contains("Lost executor") || fault.run().output().contains("ExecutorLost"),
        () -> "the driver did not report the lost executor:\n" + fault.run().tail());
    assertEquals(1, cluster.masterState().path("aliveworkers").asInt(), "the killed worker is still registered");
    assertArrayEquals(params(reference.resolve("model.zip")), params(faulted.resolve("model.zip")),
        "the model trained with a worker lost differs from the undisturbed run's");
    try (Stream<Path> left = Files.list(work)) {
      assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith(".train-faulted")).toList(),
          "temporary output left behind");
    }
  }

  /** The result of a submit during which one executor (and with {@code worker}, its worker) was killed. */
  private record Fault(StandaloneCluster.SubmitResult run, long executorPid, String blockedAt) {}

  /**
   * Submits {@code args} with {@link BlockingTaskPlugin} holding the first task of the job whose description
   * contains {@code job}, kills that task's executor JVM (and with {@code worker} its Worker JVM too) with SIGKILL
   * once it is held, and waits for the submit to end.
   */
  private static Fault runKillingExecutor(String job, boolean worker, String... args) throws Exception {
    Path markers = Files.createTempDirectory(work, "markers-");
    Map<String, String> conf = Map.of(
        "spark.jars", pluginJar.toString(),
        "spark.plugins", BlockingTaskPlugin.class.getName(),
        BlockingTaskPlugin.DIR, markers.toString(),
        BlockingTaskPlugin.JOB, job);
    CompletableFuture<StandaloneCluster.SubmitResult> submit =
        CompletableFuture.supplyAsync(() -> cluster.submitWithConf(conf, args));
    Path blocked = markers.resolve(BlockingTaskPlugin.BLOCKED);
    long deadline = System.currentTimeMillis() + BLOCK_TIMEOUT_MILLIS;
    while (!Files.exists(blocked)) {
      if (submit.isDone()) {
        StandaloneCluster.SubmitResult r = submit.get();
        fail("the job ended (exit " + r.exitCode() + ") before a task of '" + job + "' was held:\n" + r.tail());
      }
      if (System.currentTimeMillis() > deadline) {
        fail("no task of '" + job + "' started within " + BLOCK_TIMEOUT_MILLIS + " ms" + cluster.logTails());
      }
      Thread.sleep(100);
    }
    List<String> lines = Files.readAllLines(blocked);
    long pid = Long.parseLong(lines.get(0).trim());
    try {
      ProcessHandle executor = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid));
      String command = executor.info().commandLine().orElse("");
      assertTrue(command.contains("org.apache.spark.executor.CoarseGrainedExecutorBackend")
          && command.contains(cluster.stateDir().toString()), "pid " + pid + " is not an executor of this cluster: "
          + command);
      ProcessHandle parent = executor.parent().orElseThrow(() -> new AssertionError("executor " + pid + " has no parent"));
      assertTrue(parent.info().commandLine().orElse("").contains("org.apache.spark.deploy.worker.Worker"),
          "the executor's parent is not a worker: " + parent.info().commandLine().orElse("?"));
      LOG.info("killing executor {}{} while it runs {}", pid, worker ? " and its worker " + parent.pid() : "",
          lines.subList(1, lines.size()));
      // both at once, as when a machine dies: an executor whose worker is gone exits by itself (WorkerWatcher)
      List<ProcessHandle> victims = worker ? List.of(executor, parent) : List.of(executor);
      victims.forEach(ProcessHandle::destroyForcibly); // SIGKILL on Linux
      for (ProcessHandle p : victims) {
        p.onExit().get(60, TimeUnit.SECONDS);
        assertFalse(p.isAlive(), "process " + p.pid() + " survived SIGKILL");
      }
    } finally {
      Files.createFile(markers.resolve(BlockingTaskPlugin.RELEASE)); // a test failing above must not leave it held
    }
    StandaloneCluster.SubmitResult run = submit.get(13, TimeUnit.MINUTES);
    return new Fault(run, pid, String.join(" ", lines.subList(1, lines.size())));
  }

  /** The driver saw the executor die, and the master launched a replacement on the live worker. */
  private static void assertRecoveredFrom(Fault fault) throws IOException {
    String out = fault.run().output();
    assertTrue(out.contains("Lost executor") || out.contains("ExecutorLost"),
        () -> "the driver did not report the lost executor:\n" + fault.run().tail());
    assertEquals(1, fault.run().appIds().size(), "one application expected: " + fault.run().appIds());
    String app = fault.run().appIds().get(0);
    int executors = 0;
    for (int i = 1; i <= cluster.workers(); i++) {
      Path appDir = cluster.stateDir().resolve("work/worker-" + i).resolve(app);
      if (Files.isDirectory(appDir)) {
        try (Stream<Path> dirs = Files.list(appDir)) {
          executors += (int) dirs.filter(Files::isDirectory).count();
        }
      }
    }
    assertEquals(cluster.workers() + 1, executors, "the master must relaunch the killed executor (blocked at "
        + fault.blockedAt() + ")");
  }

  private static String[] calibrate(Path out) {
    return new String[] {
      "calibrate", "--model", model.toString(), "--data", data.toString(), "--method", "entropy",
      "--rows", "400", "--seed", "13", "--batch-size", "32", "--partitions", "4", "--out", out.toString()
    };
  }

  private static String[] evaluate(Path out) {
    return new String[] {
      "evaluate", "--model", model.toString(), "--data", data.toString(), "--out", out.toString()
    };
  }

  private static String[] train(Path out) {
    return new String[] {
      "train", "--data", data.toString(), "--out", out.toString(), "--preset", "mlp", "--epochs", "1",
      "--batch-size", "50", "--local-steps", "2", "--partitions", "2", "--seed", "42" // 3 rounds
    };
  }

  private static float[] params(Path modelZip) throws IOException {
    MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(modelZip.toFile(), false);
    return net.params().toFloatVector();
  }

  private static void requireSuccess(String what, StandaloneCluster.SubmitResult run) {
    assertEquals(0, run.exitCode(), () -> what + " failed (exit " + run.exitCode() + "):\n" + run.tail()
        + cluster.logTails());
    LOG.info("{}: {} ms", what, run.durationMillis());
  }

  /** A jar holding only {@link BlockingTaskPlugin}'s classes, for {@code spark.jars}. */
  private static Path pluginJar(Path jar) throws IOException {
    Path classes;
    try {
      classes = Paths.get(BlockingTaskPlugin.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    String dir = BlockingTaskPlugin.class.getPackageName().replace('.', '/');
    String prefix = BlockingTaskPlugin.class.getSimpleName();
    try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
        Stream<Path> files = Files.list(classes.resolve(dir))) {
      for (Path c : files.filter(p -> p.getFileName().toString().matches(prefix + "(\\$.*)?\\.class")).toList()) {
        out.putNextEntry(new JarEntry(dir + "/" + c.getFileName()));
        out.write(Files.readAllBytes(c));
        out.closeEntry();
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return jar;
  }
}
