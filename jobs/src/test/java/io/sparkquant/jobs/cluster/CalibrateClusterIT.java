package io.sparkquant.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.calib.CalibrationTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * calibrate through spark-submit on a real standalone cluster (master + 2 one-core workers, separate JVMs) and in
 * local[2] mode with a different partition count: the tables must be identical byte for byte. Both runs sample the
 * same rows (by row-id hash), the interpreter's float kernels compute each row on its own, and the statistics merge
 * exactly, so any difference is a bug.
 */
class CalibrateClusterIT {

  @TempDir static Path work;
  private static StandaloneCluster cluster;
  private static Path model;
  private static Path data;

  @BeforeAll
  static void setUp() throws IOException {
    model = ClusterInputs.cnnModel(work);
    data = ClusterInputs.gaussianDataset(work.resolve("data"), 8, 3, 5000, 0f);
    cluster = StandaloneCluster.builder().workers(2).coresPerWorker(1).workerMemory("3g").start();
  }

  @AfterAll
  static void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static String[] calibrate(Path out, int partitions) {
    return new String[] {
      "calibrate", "--model", model.toString(), "--data", data.toString(), "--method", "entropy",
      "--rows", "400", "--seed", "13", "--batch-size", "32", "--partitions", Integer.toString(partitions),
      "--out", out.toString()
    };
  }

  @Test
  void tableFromTheClusterEqualsLocalMode() throws IOException {
    Path onCluster = work.resolve("cluster/table.json");
    Path local = work.resolve("local/table.json");
    StandaloneCluster.SubmitResult c = cluster.submit(calibrate(onCluster, 4));
    assertEquals(0, c.exitCode(), () -> "calibrate on the cluster failed:\n" + c.tail() + cluster.logTails());
    assertEquals(1, c.appIds().size());
    assertEquals(cluster.workers(), cluster.executorLogs(c.appIds().get(0)).size(),
        "every worker must have run an executor");
    StandaloneCluster.SubmitResult l = cluster.submitWithMaster("local[2]", calibrate(local, 3));
    assertEquals(0, l.exitCode(), () -> "calibrate in local mode failed:\n" + l.tail());

    assertEquals(Files.readString(local), Files.readString(onCluster), "tables must be identical byte for byte");
    CalibrationTable table = CalibrationTable.fromJson(Files.readString(onCluster));
    assertEquals(13, table.tensors().size());
    assertTrue(table.tensors().values().stream().allMatch(t -> t.histogram() != null && t.count() > 0));
  }
}
