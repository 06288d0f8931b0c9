package io.sparkquant.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.graph.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.util.ModelSerializer;
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
    model = work.resolve("cnn.zip");
    ModelSerializer.writeModel(TestModels.cnnChain(21), model.toFile(), false);
    data = work.resolve("data");
    SparkSession spark = SharedSpark.get();
    StructType schema = new StructType()
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("label", DataTypes.IntegerType, false)
        .add("id", DataTypes.LongType, false);
    Random rnd = new Random(8);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      Float[] f = new Float[300];
      for (int k = 0; k < f.length; k++) {
        f[k] = (float) rnd.nextGaussian();
      }
      rows.add(RowFactory.create(f, i % 3, 5000L + 3 * i));
    }
    TensorDatasets.write(spark.createDataFrame(rows, schema).repartition(4),
        new DatasetInfo(new int[] {10, 10, 3}, List.of("a", "b", "c")), data.toString(), Map.of());
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
