package io.sparkquant.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkquant.jobs.TestDatasets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * train and evaluate through spark-submit on a real standalone cluster (master + 2 workers with 1 core
 * each, separate JVMs) and through the same jar in local[2] mode, on the bundled Fashion-MNIST subset.
 *
 * <p>Both runs must produce the same model bit for bit and the same metrics.json. Why exact equality is
 * the right expectation: both runs train on 2 partitions with the same rows in the same order (the
 * trainer hash-partitions by id and sorts each partition by id; with its earlier round-robin
 * repartition, executors read their local shuffle blocks first and the row order differed from local
 * mode, which this test caught: 98% of the parameters differed, by up to 0.099), the weights are
 * initialised from the seed, nothing else is random, every ND4J computation runs with
 * OMP_NUM_THREADS=1 in both modes (the harness sets it for the local driver, the workers for their
 * executors), and the parameter averaging sums in double, where float values add exactly, so the order
 * in which treeAggregate merges partition results cannot change the average. A difference would mean a
 * real bug (data reaching partitions differently, state leaking between rounds, a non-deterministic
 * kernel), so the test allows none.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrainEvaluateClusterIT {

  private static final Logger LOG = LoggerFactory.getLogger(TrainEvaluateClusterIT.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Ten balanced classes: chance is 0.1; one epoch of the MLP on 6,000 rows reaches ~0.7. */
  private static final double MIN_ACCURACY = 0.5;

  @TempDir static Path work;
  private static StandaloneCluster cluster;
  private static Path trainData;
  private static Path testData;

  @BeforeAll
  static void startClusterAndConvert() {
    long start = System.nanoTime();
    cluster = StandaloneCluster.builder().workers(2).coresPerWorker(1).workerMemory("3g").start();
    // The inputs are converted in this JVM (dataset-io's converter on the shared local[2] session):
    // the IT is about train and evaluate, and two more spark-submits would cost minutes.
    trainData = Path.of(TestDatasets.train());
    testData = Path.of(TestDatasets.test());
    LOG.info("cluster up and data converted in {} ms", millisSince(start));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
      assertTrue(cluster.processesOfThisCluster().isEmpty(), "processes left after close");
    }
  }

  @Test
  @Order(1)
  void everyExecutorRunsNd4jWithTheProjectSettings() throws IOException {
    StandaloneCluster.SubmitResult run = requireSuccess("cluster-check", cluster.submit("cluster-check"));
    List<JsonNode> reports = new ArrayList<>();
    for (String line : run.output().split("\n")) {
      if (line.startsWith("{\"partition\"")) {
        reports.add(JSON.readTree(line));
      }
    }
    assertEquals(cluster.workers(), reports.size(), () -> "one report per slot expected:\n" + run.output());
    // The same product in this JVM's ND4J is the reference for the executors' native backend.
    INDArray a = Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}});
    double expectedSum = a.mmul(a).sumNumber().doubleValue();
    Set<String> executorIds = new HashSet<>();
    for (JsonNode r : reports) {
      executorIds.add(r.path("executorId").asText());
      assertNotEquals("driver", r.path("executorId").asText(), "task ran in the driver: " + r);
      assertEquals("1", r.path("ompNumThreads").asText(), "OMP_NUM_THREADS must equal the executor cores: " + r);
      // more arenas keep more of the native memory ND4J frees (deploy/submit.sh, ./sparkquant)
      assertEquals("2", r.path("mallocArenaMax").asText(), "MALLOC_ARENA_MAX of the executor: " + r);
      // 64-row activations and Parquet column vectors are ordinary young objects in 32 MB regions (submit.sh)
      assertEquals(String.valueOf(32 << 20), r.path("g1HeapRegionSize").asText(), "G1 region size: " + r);
      assertEquals("64", r.path("objectAlignmentInBytes").asText(), "object alignment of the executor: " + r);
      assertEquals(System.getProperty("org.bytedeco.javacpp.cachedir"), r.path("javacppCacheDir").asText(),
          "executors must share the project's javacpp cache dir: " + r);
      assertEquals(expectedSum, r.path("nd4jProductSum").asDouble(), 0.0, "ND4J result on the executor: " + r);
    }
    assertEquals(cluster.workers(), executorIds.size(), "tasks must run on distinct executors: " + reports);
    assertRanOnEveryWorker(run);
  }

  @Test
  @Order(2)
  void trainAndEvaluateOnTheClusterMatchLocalMode() throws IOException {
    Path clusterOut = work.resolve("cluster");
    Path localOut = work.resolve("local");

    StandaloneCluster.SubmitResult clusterTrain =
        requireSuccess("train on the cluster", cluster.submit(train(clusterOut)));
    assertRanOnEveryWorker(clusterTrain);
    StandaloneCluster.SubmitResult clusterEval =
        requireSuccess("evaluate on the cluster", cluster.submit(evaluate(clusterOut)));
    assertRanOnEveryWorker(clusterEval);

    StandaloneCluster.SubmitResult localTrain =
        requireSuccess("train in local mode", cluster.submitWithMaster("local[2]", train(localOut)));
    StandaloneCluster.SubmitResult localEval =
        requireSuccess("evaluate in local mode", cluster.submitWithMaster("local[2]", evaluate(localOut)));
    LOG.info("train: cluster {} ms, local {} ms; evaluate: cluster {} ms, local {} ms",
        clusterTrain.durationMillis(), localTrain.durationMillis(),
        clusterEval.durationMillis(), localEval.durationMillis());

    float[] clusterParams = params(clusterOut.resolve("train/model.zip"));
    float[] localParams = params(localOut.resolve("train/model.zip"));
    assertEquals(localParams.length, clusterParams.length, "parameter count");
    int differing = 0;
    double maxAbsDiff = 0;
    for (int i = 0; i < localParams.length; i++) {
      if (Float.floatToIntBits(localParams[i]) != Float.floatToIntBits(clusterParams[i])) {
        differing++;
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs((double) localParams[i] - clusterParams[i]));
      }
    }
    assertEquals(0, differing, "parameters trained on the cluster differ from local mode in " + differing
        + " of " + localParams.length + " values (max |diff| " + maxAbsDiff + ")");

    JsonNode clusterMetrics = JSON.readTree(clusterOut.resolve("eval/metrics.json").toFile());
    JsonNode localMetrics = JSON.readTree(localOut.resolve("eval/metrics.json").toFile());
    // The two model.zip files hold identical parameters (checked above) but zip entries carry write times,
    // so the models' file hashes differ; everything else in metrics.json must be identical.
    assertNotEquals(modelSha256(localMetrics), modelSha256(clusterMetrics), "the two runs wrote distinct files");
    assertEquals(withoutModelSha256(localMetrics), withoutModelSha256(clusterMetrics),
        "metrics.json must be identical in both modes");
    double accuracy = clusterMetrics.path("accuracy").asDouble();
    assertTrue(accuracy >= MIN_ACCURACY, "accuracy " + accuracy + " below " + MIN_ACCURACY
        + ": training did not learn");
    assertEquals(2000, clusterMetrics.path("rows").asLong(), "rows scored: the whole bundled test split");
  }

  private static String modelSha256(JsonNode metrics) {
    return metrics.path("models").path(0).path("sha256").asText();
  }

  private static JsonNode withoutModelSha256(JsonNode metrics) {
    JsonNode copy = metrics.deepCopy();
    for (JsonNode model : copy.path("models")) {
      ((ObjectNode) model).remove("sha256");
    }
    return copy;
  }

  private static String[] train(Path out) {
    return new String[] {
      "train", "--data", trainData.toString(), "--out", out.resolve("train").toString(),
      "--preset", "mlp", "--epochs", "1", "--batch-size", "64", "--local-steps", "16",
      "--partitions", "2", "--seed", "42"
    };
  }

  private static String[] evaluate(Path out) {
    return new String[] {
      "evaluate", "--model", out.resolve("train/model.zip").toString(), "--data", testData.toString(),
      "--out", out.resolve("eval").toString()
    };
  }

  private static float[] params(Path modelZip) throws IOException {
    MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(modelZip.toFile(), false);
    return net.params().toFloatVector();
  }

  /** The app's executors ran tasks on every worker: their stderr under the workers' work dirs says so. */
  private static void assertRanOnEveryWorker(StandaloneCluster.SubmitResult run) throws IOException {
    assertEquals(1, run.appIds().size(), "one completed application expected, got " + run.appIds());
    Map<String, List<Path>> logs = cluster.executorLogs(run.appIds().get(0));
    assertEquals(cluster.workers(), logs.size(), "every worker must have run an executor: " + logs);
    for (List<Path> executorLogs : logs.values()) {
      boolean ranTask = false;
      for (Path log : executorLogs) {
        ranTask |= Files.readString(log).contains("Running task");
      }
      assertTrue(ranTask, "no task ran in the executors " + executorLogs);
    }
  }

  private static StandaloneCluster.SubmitResult requireSuccess(String what, StandaloneCluster.SubmitResult run) {
    assertEquals(0, run.exitCode(), () -> what + " failed (exit " + run.exitCode() + "):\n" + run.tail()
        + cluster.logTails());
    LOG.info("{}: {} ms", what, run.durationMillis());
    return run;
  }

  private static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
