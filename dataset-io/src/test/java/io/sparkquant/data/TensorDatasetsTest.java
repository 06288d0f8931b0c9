package io.sparkquant.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import java.io.File;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class TensorDatasetsTest {

  private static final DatasetInfo INFO = new DatasetInfo(new int[] {2, 2, 1}, List.of("a", "b", "c"));
  private static final int ROWS = 10;

  @TempDir Path tmp;

  private static SparkSession spark() {
    return SharedSpark.get();
  }

  private static Configuration conf() {
    return spark().sparkContext().hadoopConfiguration();
  }

  /** Row i: features {i, i + 0.5, -i, 1 / (i + 1)}, label i % 3, id 100 + i. */
  private static float[] features(int i) {
    return new float[] {i, i + 0.5f, -i, 1f / (i + 1)};
  }

  /** The rows in id order in 1 partition, or shuffled into 2 partitions. */
  private static Dataset<Row> rows(DataType featuresType, boolean withId, boolean shuffled) {
    List<Row> list = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      float[] f = features(i);
      Object value;
      if (featuresType instanceof VectorUDT) {
        value = Vectors.dense(toDouble(f));
      } else if (featuresType.equals(DataTypes.createArrayType(DataTypes.DoubleType, false))) {
        value = toDouble(f);
      } else {
        value = f;
      }
      list.add(withId ? RowFactory.create(value, i % 3, (long) (100 + i)) : RowFactory.create(value, i % 3));
    }
    StructType schema = new StructType().add("features", featuresType, false).add("label", DataTypes.IntegerType);
    if (withId) {
      schema = schema.add("id", DataTypes.LongType);
    }
    Dataset<Row> df = spark().createDataFrame(list, schema).coalesce(1);
    return shuffled ? df.repartition(2) : df;
  }

  private static Dataset<Row> floatRows() {
    return rows(DataTypes.createArrayType(DataTypes.FloatType, false), true, true);
  }

  private static Dataset<Row> orderedFloatRows() {
    return rows(DataTypes.createArrayType(DataTypes.FloatType, false), true, false);
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** Checks that every row of the loaded dataset equals the generated row with the same id. */
  private static void assertRows(TensorDataset ds, long idBase) {
    List<Row> back = ds.rows().orderBy("id").collectAsList();
    assertEquals(ROWS, back.size());
    for (int i = 0; i < ROWS; i++) {
      Row r = back.get(i);
      assertEquals(idBase + i, r.getLong(2));
      assertEquals(i % 3, r.getInt(1));
      float[] actual = new float[4];
      List<Float> list = r.getList(0);
      for (int k = 0; k < 4; k++) {
        actual[k] = list.get(k);
      }
      assertArrayEquals(features(i), actual);
    }
  }

  private void assertNoOutput(String name) {
    assertTrue(!tmp.resolve(name).toFile().exists(), name + " must not exist after a failed write");
    String[] left = tmp.toFile().list((dir, n) -> n.startsWith("." + name));
    assertEquals(0, left.length, "temporary siblings left: " + Arrays.toString(left));
  }

  private static String message(Executable action) {
    Throwable t = assertThrows(Throwable.class, action);
    InvalidDatasetException e = InvalidDatasetException.findIn(t)
        .orElseThrow(() -> new AssertionError("no InvalidDatasetException in", t));
    return e.getMessage();
  }

  private static void assertContains(String message, String... parts) {
    for (String p : parts) {
      assertTrue(message.contains(p), "'" + p + "' missing from: " + message);
    }
  }

  @Test
  void firstRowsAreTheSmallestIdsWhateverThePartitioning() {
    String out = tmp.resolve("ds").toString();
    TensorDatasets.write(floatRows(), INFO, out, Map.of()); // rows shuffled over 2 files
    Dataset<Row> loaded = TensorDatasets.load(spark(), out).rows();
    // reversed id order in 1 partition and a seeded shuffle over 4: a plain limit(3) keeps other rows
    Dataset<Row> reversed = loaded.orderBy(org.apache.spark.sql.functions.col("id").desc()).coalesce(1);
    Dataset<Row> scattered = loaded.orderBy(org.apache.spark.sql.functions.rand(7)).repartition(4);
    assertEquals(List.of(107L, 108L, 109L), ids(reversed.limit(3)), "the test needs a limit that depends on order");
    for (Dataset<Row> rows : List.of(loaded, reversed, scattered)) {
      assertEquals(List.of(100L, 101L, 102L), ids(TensorDatasets.firstRows(rows, 3)));
    }
  }

  private static List<Long> ids(Dataset<Row> rows) {
    List<Long> ids = new ArrayList<>();
    for (Row r : rows.collectAsList()) {
      ids.add(r.getLong(r.fieldIndex("id")));
    }
    ids.sort(null);
    return ids;
  }

  @Test
  void roundTripKeepsRowsMetadataAndProvenance() {
    String out = tmp.resolve("ds").toString();
    long written = TensorDatasets.write(floatRows(), INFO, out, Map.of("source", "test"));
    assertEquals(ROWS, written);
    assertEquals(INFO, TensorDatasets.readInfo(out, conf()));
    assertEquals("test", TensorDatasets.readProvenance(out, conf()).get("source"));
    assertTrue(new File(out, "_SUCCESS").exists());
    TensorDataset ds = TensorDatasets.load(spark(), out);
    assertEquals(INFO, ds.info());
    assertEquals(INFO, FormatMetadata.infoFromSchema(ds.rows().schema()));
    assertRows(ds, 100);
  }

  @Test
  void plainSparkReadsTheFilesWithFieldMetadata() {
    String out = tmp.resolve("ds").toString();
    TensorDatasets.write(floatRows(), INFO, out, Map.of());
    Dataset<Row> plain = spark().read().parquet(out);
    assertEquals(ROWS, plain.count());
    assertEquals(DataTypes.createArrayType(DataTypes.FloatType, false).simpleString(),
        plain.schema().apply("features").dataType().simpleString());
    assertEquals(INFO, FormatMetadata.infoFromSchema(plain.schema()));
    assertEquals(ROWS / 3 + 1, plain.filter("label = 0").count());
  }

  @Test
  void doubleArrayAndVectorInputsAreAcceptedByWriteAndLoad() {
    for (DataType type : List.of(DataTypes.createArrayType(DataTypes.DoubleType, false), new VectorUDT())) {
      String name = type instanceof VectorUDT ? "vector" : "double";
      String out = tmp.resolve(name).toString();
      TensorDatasets.write(rows(type, true, true), INFO, out, Map.of());
      assertRows(TensorDatasets.load(spark(), out), 100);

      // the same types written by plain Spark (no tensor metadata): load takes the info from the caller
      String plain = tmp.resolve(name + "-plain").toString();
      rows(type, true, false).write().parquet(plain);
      assertRows(TensorDatasets.load(spark(), plain, INFO), 100);
    }
  }

  @Test
  void missingIdsArePositionsInFilesSortedByName() {
    String out = tmp.resolve("noid").toString();
    rows(DataTypes.createArrayType(DataTypes.FloatType, false), false, false).write().parquet(out);
    TensorDataset ds = TensorDatasets.load(spark(), out, INFO);
    assertRows(ds, 0);
  }

  @Test
  void badLabelOnWriteNamesRowAndLeavesNoOutput() {
    Dataset<Row> bad = floatRows().selectExpr("features", "IF(id = 105, 7, label) AS label", "id");
    String m = message(() -> TensorDatasets.write(bad, INFO, tmp.resolve("bad").toString(), Map.of()));
    assertContains(m, "'label'", "row id 105", "[0, 3)", "found 7");
    assertNoOutput("bad");
  }

  @Test
  void wrongFeatureLengthAndNaNOnWriteAreNamed() {
    Dataset<Row> shortRow = floatRows().selectExpr("IF(id = 103, slice(features, 1, 3), features) AS features",
        "label", "id");
    String m = message(() -> TensorDatasets.write(shortRow, INFO, tmp.resolve("short").toString(), Map.of()));
    assertContains(m, "'features'", "row id 103", "4 values (shape 2,2,1)", "found 3 values");
    assertNoOutput("short");

    Dataset<Row> nan = floatRows().selectExpr(
        "IF(id = 108, array(features[0], float('NaN'), features[2], features[3]), features) AS features",
        "label", "id");
    m = message(() -> TensorDatasets.write(nan, INFO, tmp.resolve("nan").toString(), Map.of()));
    assertContains(m, "'features'", "row id 108", "NaN at index 1");
    assertNoOutput("nan");
  }

  @Test
  void emptyInputIsAnErrorAndLeavesNoOutput() {
    String m = message(() -> TensorDatasets.write(floatRows().limit(0), INFO, tmp.resolve("empty").toString(),
        Map.of()));
    assertContains(m, "No rows");
    assertNoOutput("empty");
  }

  @Test
  void existingOutputIsKeptUnlessOverwrite() {
    String out = tmp.resolve("ds").toString();
    TensorDatasets.write(floatRows(), INFO, out, Map.of("run", "1"));
    assertThrows(IllegalArgumentException.class, () -> TensorDatasets.write(floatRows(), INFO, out, Map.of()));
    TensorDatasets.write(floatRows().limit(3), INFO, out, Map.of("run", "2"), true);
    assertEquals("2", TensorDatasets.readProvenance(out, conf()).get("run"));
    assertEquals(3, TensorDatasets.load(spark(), out).rows().count());
  }

  @Test
  void wrongColumnTypesAreNamedWithFileTypeAndAcceptedTypes() {
    String ints = tmp.resolve("ints").toString();
    floatRows().selectExpr("transform(features, x -> CAST(x AS INT)) AS features", "label", "id")
        .coalesce(1).write().parquet(ints);
    String m = message(() -> TensorDatasets.load(spark(), ints, INFO));
    assertContains(m, "part-", "'features'", "array<int>", ColumnTypes.FEATURES_ACCEPTED);

    String doubleLabel = tmp.resolve("dlabel").toString();
    floatRows().selectExpr("features", "CAST(label AS DOUBLE) AS label", "id").coalesce(1).write()
        .parquet(doubleLabel);
    m = message(() -> TensorDatasets.load(spark(), doubleLabel, INFO));
    assertContains(m, "part-", "'label'", "double", ColumnTypes.LABEL_ACCEPTED);

    String noLabel = tmp.resolve("nolabel").toString();
    floatRows().drop("label").coalesce(1).write().parquet(noLabel);
    m = message(() -> TensorDatasets.load(spark(), noLabel, INFO));
    assertContains(m, "part-", "Missing column 'label'", "[features, id]");

    m = message(() -> TensorDatasets.write(floatRows().selectExpr("CAST(label AS STRING) AS features", "label"),
        INFO, tmp.resolve("str").toString(), Map.of()));
    assertContains(m, "'features'", "string", ColumnTypes.FEATURES_ACCEPTED);
    assertNoOutput("str");
  }

  @Test
  void badRowsInFilesFailAsSparkReadsThemNamingFileColumnAndRow() {
    orderedFloatRows().write().parquet(tmp.resolve("ok").toString());
    String nan = tmp.resolve("nanfile").toString();
    floatRows().selectExpr(
        "IF(id = 104, array(features[0], features[1], float('Infinity'), features[3]), features) AS features",
        "label", "id").coalesce(1).write().parquet(nan);
    TensorDataset ds = TensorDatasets.load(spark(), nan, INFO);
    String m = message(() -> ds.rows().collectAsList());
    assertContains(m, "part-", "'features'", "row id 104", "Infinity at index 2");

    for (String[] bad : new String[][] {{"float('NaN')", "NaN at index 1"}, {"float('-Infinity')",
        "-Infinity at index 1"}, {"CAST(NULL AS FLOAT)", "null at index 1"}}) {
      String dir = tmp.resolve("bad" + bad[1].charAt(1)).toString();
      orderedFloatRows().selectExpr("IF(id = 109, array(features[0], " + bad[0] + ", features[2], features[3]), "
          + "features) AS features", "label", "id").write().parquet(dir);
      m = message(() -> TensorDatasets.load(spark(), dir, INFO).rows().collectAsList());
      assertContains(m, "part-", "'features'", "row id 109", "row 9 of the file", bad[1]);
    }
    assertEquals(ROWS, TensorDatasets.load(spark(), tmp.resolve("ok").toString(), INFO).rows().collectAsList().size());

    String label = tmp.resolve("labelfile").toString();
    floatRows().selectExpr("features", "IF(id = 102, -1, label) AS label", "id").coalesce(1).write()
        .parquet(label);
    m = message(() -> TensorDatasets.load(spark(), label, INFO).rows().collectAsList());
    assertContains(m, "part-", "'label'", "row id 102", "found -1");

    String length = tmp.resolve("lengthfile").toString();
    orderedFloatRows().selectExpr("IF(id = 107, concat(features, features), features) AS features", "label", "id")
        .write().parquet(length);
    m = message(() -> TensorDatasets.load(spark(), length, INFO).rows().collectAsList());
    assertContains(m, "part-", "'features'", "row id 107", "row 7 of the file", "found 8 values");
  }

  @Test
  void truncatedFileIsNamedAndCauseKept() throws Exception {
    String out = tmp.resolve("ds").toString();
    TensorDatasets.write(floatRows(), INFO, out, Map.of());
    File part = Files.list(Path.of(out)).filter(p -> p.getFileName().toString().startsWith("part-"))
        .findFirst().orElseThrow().toFile();
    try (RandomAccessFile raf = new RandomAccessFile(part, "rw")) {
      raf.setLength(raf.length() / 2);
    }
    InvalidDatasetException e = assertThrows(InvalidDatasetException.class, () -> TensorDatasets.load(spark(), out));
    assertContains(e.getMessage(), part.getName(), "Cannot read Parquet file");
    assertNotNull(e.getCause());
    assertThrows(InvalidDatasetException.class, () -> TensorDatasets.readInfo(out, conf()));
  }

  @Test
  void filesThatDisagreeOnInfoAreAnError() throws Exception {
    String a = tmp.resolve("a").toString();
    String b = tmp.resolve("b").toString();
    TensorDatasets.write(floatRows().coalesce(1), INFO, a, Map.of());
    TensorDatasets.write(floatRows().coalesce(1), new DatasetInfo(new int[] {4}, List.of("a", "b", "c")), b,
        Map.of());
    Files.move(Path.of(b, "part-00000.snappy.parquet"), Path.of(a, "part-00001.snappy.parquet"));
    InvalidDatasetException e = assertThrows(InvalidDatasetException.class, () -> TensorDatasets.readInfo(a, conf()));
    assertContains(e.getMessage(), "disagree", "part-00000", "part-00001", "shape=4", "shape=2,2,1");
  }

  @Test
  void missingAndEmptyDatasetsAreErrors() {
    String m = message(() -> TensorDatasets.load(spark(), tmp.resolve("nothing").toString()));
    assertContains(m, "does not exist");
    String empty = tmp.resolve("empty").toString();
    floatRows().limit(0).write().parquet(empty);
    m = message(() -> TensorDatasets.load(spark(), empty, INFO));
    assertContains(m, "no rows");
  }
}
