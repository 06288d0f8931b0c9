package io.sparkquant.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.qat.QatJob;
import io.sparkquant.jobs.train.TrainJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * qat through spark-submit on a real standalone cluster (master + 2 one-core workers, separate JVMs) and through the
 * same jar in local[2] mode, with the same 2 partitions: the int8 .tflite files must be identical byte for byte.
 * The trainer gives each partition the same rows in the same order in both modes (hash-partitioned by id, sorted by
 * id), the fake-quant network is rebuilt from its JSON configuration in every task, every ND4J computation runs with
 * OMP_NUM_THREADS=1, and the averaging sums in double (TrainEvaluateClusterIT): any difference is a bug.
 *
 * <p>The float model (micro preset, depthwise-separable) and its calibration table are made in this JVM; only the
 * qat runs are submitted. Small on purpose (1,000 rows, one epoch): 399 s for the test class on the 2-core VM under
 * a load average of about 20 (cluster start 33 s, qat submits 103 s on the cluster and 73 s in local mode).
 */
class QatClusterIT {

  private static final int ROWS = 1000;

  @TempDir static Path work;
  private static StandaloneCluster cluster;
  private static Path data;
  private static Path model;
  private static Path table;

  @BeforeAll
  static void setUp() {
    // The first 1,000 rows by id as a dataset of their own: `qat --limit` is no way to give both runs the same rows
    // (this test failed with it).
    TensorDataset all = TensorDatasets.load(SharedSpark.get(), TestDatasets.train());
    data = ClusterInputs.firstRowsById(all, ROWS, 2, work.resolve("data"));
    Path trained = work.resolve("float");
    assertEquals(0, Main.execute("train", "--data", data.toString(), "--out", trained.toString(),
        "--preset", "micro", "--epochs", "1", "--partitions", "2"));
    model = trained.resolve(TrainJob.MODEL_FILE);
    table = work.resolve("table.json");
    assertEquals(0, Main.execute("calibrate", "--model", model.toString(), "--data", data.toString(),
        "--out", table.toString(), "--rows", "256"));
    cluster = StandaloneCluster.builder().workers(2).coresPerWorker(1).workerMemory("3g").start();
  }

  @AfterAll
  static void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static String[] qat(Path out) {
    return new String[] {
      "qat", "--model", model.toString(), "--data", data.toString(), "--calibration", table.toString(),
      "--epochs", "1", "--partitions", "2", "--seed", "42", "--out", out.toString()
    };
  }

  @Test
  void tfliteFromTheClusterEqualsLocalMode() throws IOException {
    Path onCluster = work.resolve("cluster");
    Path local = work.resolve("local");
    StandaloneCluster.SubmitResult c = cluster.submit(qat(onCluster));
    assertEquals(0, c.exitCode(), () -> "qat on the cluster failed:\n" + c.tail() + cluster.logTails());
    assertEquals(1, c.appIds().size());
    assertEquals(cluster.workers(), cluster.executorLogs(c.appIds().get(0)).size(),
        "every worker must have run an executor");
    StandaloneCluster.SubmitResult l = cluster.submitWithMaster("local[2]", qat(local));
    assertEquals(0, l.exitCode(), () -> "qat in local mode failed:\n" + l.tail());

    byte[] tflite = Files.readAllBytes(onCluster.resolve(QatJob.TFLITE_FILE));
    assertArrayEquals(Files.readAllBytes(local.resolve(QatJob.TFLITE_FILE)), tflite,
        "the int8 model fine-tuned on the cluster must equal local mode's byte for byte");
    ObjectMapper json = new ObjectMapper();
    JsonNode clusterManifest = json.readTree(onCluster.resolve(Manifest.FILE_NAME).toFile());
    JsonNode localManifest = json.readTree(local.resolve(Manifest.FILE_NAME).toFile());
    assertEquals(cluster.masterUrl(), clusterManifest.path("spark").path("master").asText());
    assertEquals("local[2]", localManifest.path("spark").path("master").asText());
    assertEquals(2, clusterManifest.path("partitions").asInt(), "partitions on the cluster");
    assertEquals(2, localManifest.path("partitions").asInt(), "partitions in local mode");
  }
}
