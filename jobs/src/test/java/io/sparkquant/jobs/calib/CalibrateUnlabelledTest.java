package io.sparkquant.jobs.calib;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.eval.QuantizedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Calibration needs no labels: the same rows with and without a label column give the same table. */
class CalibrateUnlabelledTest {

  @TempDir Path tmp;

  @Test
  void sameTableWithAndWithoutLabels() throws Exception {
    SparkSession spark = SharedSpark.get();
    TensorDataset train = TensorDatasets.load(spark, TestDatasets.train());
    Dataset<Row> subset = train.rows().filter(col("id").lt(600));
    String labelled = tmp.resolve("labelled").toString();
    String unlabelled = tmp.resolve("unlabelled").toString();
    TensorDatasets.write(subset, train.info(), labelled, Map.of());
    TensorDatasets.write(subset.drop("label"), train.info(), unlabelled, Map.of());

    String model = QuantizedModels.get().dl4j.toString();
    byte[][] tables = new byte[2][];
    String[] dirs = {labelled, unlabelled};
    for (int i = 0; i < 2; i++) {
      String out = tmp.resolve("table-" + i + ".json").toString();
      CalibrateJob.run(spark, new CalibrateJob.Options(model, dirs[i], out, "minmax", null, 200, 0, 3, 0, 64, 2048,
          false));
      tables[i] = Files.readAllBytes(Path.of(out));
    }
    assertTrue(tables[0].length > 100);
    assertArrayEquals(tables[0], tables[1]);
  }
}
