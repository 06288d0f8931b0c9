package io.sparkquant.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parquet and CSV data SparkQuant did not write, converted by naming their columns. */
class NamedColumnsConverterTest {

  @TempDir Path tmp;

  private static List<Float> features(Row r) {
    return r.getList(r.fieldIndex("features"));
  }

  @Test
  void parquetWithDoubleArraysLabelAndIdColumns() {
    SparkSession spark = SharedSpark.get();
    String in = tmp.resolve("doubles").toString();
    List<Row> rows = List.of(
        RowFactory.create(new double[] {0.5, 1, 2, 3}, 2L, 70, "a"),
        RowFactory.create(new double[] {-1, 0, 0.25, 4}, 0L, 71, "b"));
    spark.createDataFrame(rows, new StructType()
            .add("pixels", DataTypes.createArrayType(DataTypes.DoubleType)).add("target", DataTypes.LongType)
            .add("key", DataTypes.IntegerType).add("other", DataTypes.StringType))
        .coalesce(1).write().parquet(in);
    String out = tmp.resolve("out").toString();
    assertEquals(2, ParquetConverter.convert(spark, in, out, new TensorDatasets.Columns("pixels", "target", "key"),
        new int[] {2, 2, 1}, null, false));
    TensorDataset data = TensorDatasets.load(spark, out);
    assertEquals(new DatasetInfo(new int[] {2, 2, 1}, List.of("0", "1", "2")), data.info());
    List<Row> back = data.rows().orderBy("id").collectAsList();
    assertEquals(70L, back.get(0).getLong(back.get(0).fieldIndex("id")));
    assertEquals(2, back.get(0).getInt(back.get(0).fieldIndex("label")));
    assertEquals(List.of(0.5f, 1f, 2f, 3f), features(back.get(0)));
    assertEquals(List.of(-1f, 0f, 0.25f, 4f), features(back.get(1)));
    Map<String, String> provenance = TensorDatasets.readProvenance(out, spark.sparkContext().hadoopConfiguration());
    assertEquals("pixels", provenance.get("featuresColumn"));
  }

  @Test
  void parquetWithVectorsUnlabelledGivenClassNamesAndPositionalIds() {
    SparkSession spark = SharedSpark.get();
    String in = tmp.resolve("vectors").toString();
    List<Row> rows = List.of(RowFactory.create(Vectors.dense(1, 2, 3)), RowFactory.create(Vectors.sparse(3,
        new int[] {1}, new double[] {5})), RowFactory.create(Vectors.dense(7, 8, 9)));
    spark.createDataFrame(rows, new StructType().add("vec", new VectorUDT())).coalesce(1).write().parquet(in);
    String out = tmp.resolve("out").toString();
    ParquetConverter.convert(spark, in, out, new TensorDatasets.Columns("vec", null, null), new int[] {3},
        List.of("p", "q"), false);
    TensorDataset data = TensorDatasets.loadFeatures(spark, out, null);
    assertFalse(data.labelled());
    assertEquals(List.of("p", "q"), data.info().classNames());
    List<Row> back = data.rows().orderBy("id").collectAsList();
    assertEquals(List.of(0f, 5f, 0f), features(back.get(1)));
    assertEquals(2L, back.get(2).getLong(back.get(2).fieldIndex("id")));

    // Unlabelled without class names: the placeholder.
    String out2 = tmp.resolve("out2").toString();
    ParquetConverter.convert(spark, in, out2, new TensorDatasets.Columns("vec", null, null), new int[] {3}, null,
        false);
    assertEquals(DatasetInfo.UNKNOWN_CLASSES, TensorDatasets.loadFeatures(spark, out2, null).info().classNames());
  }

  @Test
  void parquetRowsOfAnotherLengthAndMissingColumnsAreNamed() {
    SparkSession spark = SharedSpark.get();
    String in = tmp.resolve("lengths").toString();
    spark.range(4).selectExpr("IF(id = 2, array_repeat(CAST(1 AS DOUBLE), 100000), array(1D, 2D, 3D, 4D)) AS x",
        "id AS rowkey").coalesce(1).write().parquet(in);
    String out = tmp.resolve("out").toString();
    InvalidDatasetException e = assertThrows(InvalidDatasetException.class, () -> ParquetConverter.convert(spark, in,
        out, new TensorDatasets.Columns("x", null, "rowkey"), new int[] {2, 2}, null, false));
    assertTrue(e.getMessage().contains("row id 2") && e.getMessage().contains("part-") && e.getMessage().contains("'x'")
        && e.getMessage().contains("expected 4 values (shape 2,2), found 100000 values"), e.getMessage());
    e = assertThrows(InvalidDatasetException.class, () -> ParquetConverter.convert(spark, in, out,
        new TensorDatasets.Columns("pixels", null, null), new int[] {4}, null, false));
    assertTrue(e.getMessage().contains("Missing column 'pixels'") && e.getMessage().contains("[x, rowkey]"),
        e.getMessage());
    e = assertThrows(InvalidDatasetException.class, () -> ParquetConverter.convert(spark, in, out,
        new TensorDatasets.Columns("rowkey", null, null), new int[] {4}, null, false));
    assertTrue(e.getMessage().contains("'rowkey'") && e.getMessage().contains("bigint"), e.getMessage());
    assertFalse(Files.exists(Path.of(out)));
  }

  @Test
  void csvFeaturesByNameOrPrefixAndUnlabelled() throws Exception {
    SparkSession spark = SharedSpark.get();
    Path csv = Files.writeString(tmp.resolve("in.csv"),
        "key,px1,note,px0,y\n"
            + "5,0.5,7,1.5,1\n"
            + "6,2,8,3,0\n");
    String byName = tmp.resolve("byname").toString();
    CsvConverter.convert(spark, csv.toString(), byName, CsvOptions.builder().labelColumn("y").idColumn("key")
        .featureColumns(List.of("px0", "px1")).build());
    List<Row> rows = TensorDatasets.load(spark, byName).rows().orderBy("id").collectAsList();
    assertEquals(List.of(1.5f, 0.5f), features(rows.get(0)), "in the order named");
    assertEquals(1, rows.get(0).getInt(rows.get(0).fieldIndex("label")));

    String byPrefix = tmp.resolve("byprefix").toString();
    CsvConverter.convert(spark, csv.toString(), byPrefix, CsvOptions.builder().unlabelled().idColumn("key")
        .featurePrefix("px").build());
    TensorDataset unlabelled = TensorDatasets.loadFeatures(spark, byPrefix, null);
    assertFalse(unlabelled.labelled());
    assertEquals(new DatasetInfo(new int[] {2}, DatasetInfo.UNKNOWN_CLASSES), unlabelled.info());
    rows = unlabelled.rows().orderBy("id").collectAsList();
    assertEquals(List.of(0.5f, 1.5f), features(rows.get(0)), "in file order");
    assertEquals(6L, rows.get(1).getLong(rows.get(1).fieldIndex("id")));

    InvalidDatasetException e = assertThrows(InvalidDatasetException.class, () -> CsvConverter.convert(spark,
        csv.toString(), tmp.resolve("bad").toString(), CsvOptions.builder().unlabelled().featurePrefix("q").build()));
    assertTrue(e.getMessage().contains("starts with 'q'"), e.getMessage());
    e = assertThrows(InvalidDatasetException.class, () -> CsvConverter.convert(spark, csv.toString(),
        tmp.resolve("bad").toString(), CsvOptions.builder().labelColumn("y").featureColumns(List.of("px0", "y"))
            .build()));
    assertTrue(e.getMessage().contains("'y' cannot be both a feature and the label"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> CsvOptions.builder().unlabelled().labelColumn("y").build());
    assertThrows(IllegalArgumentException.class,
        () -> CsvOptions.builder().unlabelled().featurePrefix("p").featureColumns(List.of("a")).build());
  }
}
