package io.sparkquant.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The deployment itself: spark-submit of the app jar onto a real standalone cluster runs ND4J on every worker. */
class ClusterCheckIT {

  private static StandaloneCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = StandaloneCluster.builder().workers(2).coresPerWorker(1).workerMemory("3g").start();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
      assertTrue(cluster.processesOfThisCluster().isEmpty(), "processes left after close");
    }
  }

  @Test
  void everyExecutorRunsNd4jWithTheProjectSettings() throws IOException {
    StandaloneCluster.SubmitResult run = cluster.submit("cluster-check");
    assertEquals(0, run.exitCode(), () -> "cluster-check failed:\n" + run.tail() + cluster.logTails());
    List<JsonNode> reports = reportLines(run.output());
    assertEquals(cluster.workers(), reports.size(), () -> "one report per slot expected:\n" + run.output());

    // The same product in this JVM's ND4J is the reference for the executors' native backend.
    INDArray a = Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}});
    double expectedSum = a.mmul(a).sumNumber().doubleValue();
    Set<String> executorIds = new HashSet<>();
    for (JsonNode r : reports) {
      executorIds.add(r.path("executorId").asText());
      assertNotEquals("driver", r.path("executorId").asText(), "task ran in the driver: " + r);
      assertEquals("1", r.path("ompNumThreads").asText(), "OMP_NUM_THREADS must equal the executor cores: " + r);
      assertEquals(System.getProperty("org.bytedeco.javacpp.cachedir"), r.path("javacppCacheDir").asText(),
          "executors must share the project's javacpp cache dir: " + r);
      assertEquals(expectedSum, r.path("nd4jProductSum").asDouble(), 0.0, "ND4J result on the executor: " + r);
    }
    assertEquals(cluster.workers(), executorIds.size(), "tasks must run on distinct executors: " + reports);

    assertEquals(1, run.appIds().size(), "one completed application expected, got " + run.appIds());
    Map<String, List<Path>> logs = cluster.executorLogs(run.appIds().get(0));
    assertEquals(cluster.workers(), logs.size(), "every worker must have run an executor: " + logs);
    for (List<Path> executorLogs : logs.values()) {
      String log = Files.readString(executorLogs.get(0));
      assertTrue(log.contains("Running task"), "no task in executor log " + executorLogs.get(0));
    }
  }

  private static List<JsonNode> reportLines(String output) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> reports = new ArrayList<>();
    for (String line : output.split("\n")) {
      if (line.startsWith("{\"partition\"")) {
        reports.add(json.readTree(line));
      }
    }
    return reports;
  }
}
