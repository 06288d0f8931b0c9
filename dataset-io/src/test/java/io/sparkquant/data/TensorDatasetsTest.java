package io.sparkquant.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorDatasetsTest {

  private static final DatasetInfo INFO = new DatasetInfo(new int[] {2, 2, 1}, List.of("a", "b", "c"));

  @TempDir Path tmp;

  static Dataset<Row> rows(SparkSession spark, int n) {
    List<Row> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(RowFactory.create(new float[] {i, i + 0.5f, -i, 1f / (i + 1)}, i % 3, (long) (100 + i)));
    }
    StructType schema = new StructType()
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("label", DataTypes.IntegerType, false)
        .add("id", DataTypes.LongType, false);
    return spark.createDataFrame(list, schema).repartition(2);
  }

  @Test
  void roundTripKeepsRowsAndMetadata() {
    SparkSession spark = SharedSpark.get();
    String out = tmp.resolve("ds").toString();
    TensorDatasets.write(rows(spark, 10), INFO, out, Map.of("source", "test"));
    assertEquals(INFO, TensorDatasets.readInfo(out, spark.sparkContext().hadoopConfiguration()));
    assertEquals("test", TensorDatasets.readProvenance(out, spark.sparkContext().hadoopConfiguration()).get("source"));
    TensorDataset ds = TensorDatasets.load(spark, out);
    assertEquals(INFO, ds.info());
    List<Row> back = ds.rows().orderBy("id").collectAsList();
    assertEquals(10, back.size());
    for (int i = 0; i < 10; i++) {
      Row r = back.get(i);
      assertEquals(100 + i, r.getLong(2));
      assertEquals(i % 3, r.getInt(1));
      List<Float> f = r.getList(0);
      assertEquals(List.of((float) i, i + 0.5f, (float) -i, 1f / (i + 1)), f);
    }
    // plain Spark reads it, and sees the field metadata
    Dataset<Row> plain = spark.read().parquet(out);
    assertEquals(10, plain.count());
    assertEquals(INFO, FormatMetadata.infoFromSchema(plain.schema()));
  }

  @Test
  void badLabelOnWriteNamesRowAndLeavesNoDir() {
    SparkSession spark = SharedSpark.get();
    String out = tmp.resolve("bad").toString();
    Dataset<Row> bad = rows(spark, 10).selectExpr("features", "IF(id = 105, 7, label) AS label", "id");
    InvalidDatasetException e = assertThrows(InvalidDatasetException.class,
        () -> TensorDatasets.write(bad, INFO, out, Map.of()));
    assertTrue(e.getMessage().contains("row id 105"), e.getMessage());
    assertTrue(e.getMessage().contains("'label'"), e.getMessage());
    assertFalse(tmp.resolve("bad").toFile().exists());
    assertEquals(0, tmp.toFile().list().length, "temporary sibling deleted");
  }
}
