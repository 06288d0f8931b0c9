package io.sparkquant.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.eval.QuantizedModels;
import io.sparkquant.jobs.predict.PredictJob;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * predict through spark-submit on a real standalone cluster (master + 2 one-core workers, separate JVMs) and through
 * the same jar in local[2] mode, on an unlabelled dataset (features and id only, tensor metadata in the footers,
 * 3 files): the predictions must be the same rows with the same ids, predictions, probabilities and top-k. The
 * int8 model runs on SparkQuant's Java interpreter, whose integer kernels are row-independent, so the batching of
 * rows into partitions cannot change a value: any difference is a bug.
 */
class PredictClusterIT {

  private static final int ROWS = 600;

  @TempDir static Path work;
  private static StandaloneCluster cluster;
  private static Path data;
  private static Path model;

  @BeforeAll
  static void setUp() {
    SparkSession spark = SharedSpark.get();
    TensorDataset test = TensorDatasets.load(spark, TestDatasets.test());
    data = ClusterInputs.firstRowsById(test, ROWS, 3, work.resolve("unlabelled"), TensorDatasets.FEATURES,
        TensorDatasets.ID);
    assertFalse(TensorDatasets.loadFeatures(spark, data.toString(), null).labelled());
    model = QuantizedModels.get().int8;
    // The harness's default 5-minute submit limit killed the first run's driver while both executors were scoring
    // (load average about 40 on the 2-core VM, shared with other builds).
    cluster = StandaloneCluster.builder().workers(2).coresPerWorker(1).workerMemory("3g")
        .submitTimeout(Duration.ofMinutes(15)).start();
  }

  @AfterAll
  static void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static String[] predict(Path out) {
    return new String[] {
      "predict", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
      "--top-k", "3", "--batch-size", "64"
    };
  }

  @Test
  void predictionsFromTheClusterEqualLocalMode() {
    Path onCluster = work.resolve("cluster");
    Path local = work.resolve("local");
    StandaloneCluster.SubmitResult c = cluster.submit(predict(onCluster));
    assertEquals(0, c.exitCode(), () -> "predict on the cluster failed:\n" + c.tail() + cluster.logTails());
    assertEquals(1, c.appIds().size());
    assertEquals(cluster.workers(), cluster.executorLogs(c.appIds().get(0)).size(),
        "every worker must have run an executor");
    StandaloneCluster.SubmitResult l = cluster.submitWithMaster("local[2]", predict(local));
    assertEquals(0, l.exitCode(), () -> "predict in local mode failed:\n" + l.tail());

    SparkSession spark = SharedSpark.get();
    List<Row> fromCluster = spark.read().parquet(onCluster.resolve(PredictJob.PREDICTIONS_DIR).toString())
        .orderBy("id").collectAsList();
    List<Row> fromLocal = spark.read().parquet(local.resolve(PredictJob.PREDICTIONS_DIR).toString())
        .orderBy("id").collectAsList();
    assertEquals(List.of("id", "prediction", "probability", PredictJob.TOP_K),
        List.of(spark.read().parquet(onCluster.resolve(PredictJob.PREDICTIONS_DIR).toString()).columns()));
    assertEquals(ROWS, fromCluster.size());
    assertEquals(ROWS, fromLocal.size());
    for (int i = 0; i < ROWS; i++) {
      Row a = fromCluster.get(i);
      Row b = fromLocal.get(i);
      assertEquals(i, a.getLong(0), "the ids are the first rows of the test set, 0.." + (ROWS - 1));
      assertEquals(b.getLong(0), a.getLong(0), "id of row " + i);
      assertEquals(b.getInt(1), a.getInt(1), "prediction of id " + a.getLong(0));
      assertEquals(b.getList(2), a.getList(2), "probability of id " + a.getLong(0));
      assertEquals(b.getList(3), a.getList(3), "top_k of id " + a.getLong(0));
    }
  }
}
