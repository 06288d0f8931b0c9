package io.sparkquant.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
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

/** The label column is optional when writing and when reading with loadFeatures; load (train, evaluate) needs it. */
class UnlabelledDatasetsTest {

  private static final DatasetInfo INFO = new DatasetInfo(new int[] {3}, List.of("a", "b"));

  @TempDir Path tmp;

  private static Dataset<Row> unlabelled(SparkSession spark, int n) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(RowFactory.create(new float[] {i, -i, 0.5f * i}, 10L + i));
    }
    return spark.createDataFrame(rows, new StructType()
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false)).add("id", DataTypes.LongType));
  }

  @Test
  void writtenWithoutLabelsAndReadBackWithLoadFeatures() {
    SparkSession spark = SharedSpark.get();
    String dir = tmp.resolve("unlabelled").toString();
    assertEquals(7, TensorDatasets.write(unlabelled(spark, 7).repartition(2), INFO, dir, Map.of()));
    assertTrue(TensorDatasets.hasInfo(dir, spark.sparkContext().hadoopConfiguration()));

    TensorDataset data = TensorDatasets.loadFeatures(spark, dir, null);
    assertFalse(data.labelled());
    assertEquals(INFO, data.info());
    assertEquals(List.of("features", "id"), List.of(data.rows().columns()));
    List<Row> rows = data.rows().orderBy("id").collectAsList();
    assertEquals(7, rows.size());
    assertEquals(13L, rows.get(3).getLong(1));
    assertEquals(List.of(3f, -3f, 1.5f), rows.get(3).getList(0));

    // Batches of unlabelled rows have ids and no labels.
    Iterator<Batch> batches = Batches.batchIterator(rows.iterator(), INFO, 4, Layout.FLAT);
    Batch first = batches.next();
    assertNull(first.labels());
    assertArrayEquals(new long[] {10, 11, 12, 13}, first.ids());
    assertEquals(3, batches.next().size());

    // Training and evaluation need labels: load says which column is missing.
    InvalidDatasetException e = assertThrows(InvalidDatasetException.class, () -> TensorDatasets.load(spark, dir));
    assertTrue(e.getMessage().contains("Missing column 'label'"), e.getMessage());
  }

  @Test
  void loadFeaturesStillChecksLabelsThatAreThere() {
    SparkSession spark = SharedSpark.get();
    String dir = tmp.resolve("labelled").toString();
    List<Row> rows = List.of(RowFactory.create(new float[] {1, 2, 3}, 1), RowFactory.create(new float[] {4, 5, 6}, 0));
    TensorDatasets.write(spark.createDataFrame(rows, new StructType()
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false)).add("label", DataTypes.IntegerType)),
        INFO, dir, Map.of());
    TensorDataset data = TensorDatasets.loadFeatures(spark, dir, null);
    assertTrue(data.labelled());
    assertEquals(List.of("features", "label", "id"), List.of(data.rows().columns()));
    // A given info with fewer classes makes label 1 out of range: the check still runs.
    DatasetInfo oneClass = new DatasetInfo(new int[] {3}, List.of("a"));
    String oneClassDir = tmp.resolve("one-class").toString();
    // Plain Spark, the DataFrame made anew (Spark keeps field metadata through a same-name alias): no tensor
    // metadata, so the given info is used.
    spark.createDataFrame(spark.read().parquet(dir).select("features", "label").javaRDD(), new StructType()
        .add("features", DataTypes.createArrayType(DataTypes.FloatType)).add("label", DataTypes.IntegerType))
        .write().parquet(oneClassDir);
    assertFalse(TensorDatasets.hasInfo(oneClassDir, spark.sparkContext().hadoopConfiguration()));
    TensorDataset oneClassData = TensorDatasets.loadFeatures(spark, oneClassDir, oneClass);
    Exception failed = assertThrows(Exception.class,
        () -> oneClassData.rows().collectAsList());
    InvalidDatasetException cause = InvalidDatasetException.findIn(failed).orElseThrow();
    assertTrue(cause.getMessage().contains("'label'") && cause.getMessage().contains("[0, 1)"), cause.getMessage());
  }
}
