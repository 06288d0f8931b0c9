package io.sparkquant.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvConverterTest {

  @TempDir Path tmp;

  private static List<Float> features(Row r) {
    return r.getList(0);
  }

  @Test
  void headerLabelByNameShapeAndIdColumn() throws Exception {
    SparkSession spark = SharedSpark.get();
    Path csv = Files.writeString(tmp.resolve("in.csv"),
        "key,p0,class,p1,p2,p3\n"
            + "70,0.5,1,1.5,2.5,-3\n"
            + "71,1e-3,0,0,0,4\n"
            + "72,7,2,8,9,10\n");
    CsvOptions opts = CsvOptions.builder().labelColumn("class").idColumn("key").shape(2, 2, 1)
        .classNames(List.of("x", "y", "z")).build();
    String out = tmp.resolve("out").toString();
    assertEquals(3, CsvConverter.convert(spark, csv.toString(), out, opts));
    TensorDataset ds = TensorDatasets.load(spark, out);
    assertEquals(new DatasetInfo(new int[] {2, 2, 1}, List.of("x", "y", "z")), ds.info());
    List<Row> rows = ds.rows().orderBy("id").collectAsList();
    assertEquals(70L, rows.get(0).getLong(2));
    assertEquals(1, rows.get(0).getInt(1));
    assertEquals(List.of(0.5f, 1.5f, 2.5f, -3f), features(rows.get(0)));
    assertEquals(List.of(1e-3f, 0f, 0f, 4f), features(rows.get(1)));
    assertEquals(2, rows.get(2).getInt(1));
    assertEquals("p0,p1,p2,p3",
        TensorDatasets.readProvenance(out, spark.sparkContext().hadoopConfiguration()).get("featureColumns"));
  }

  @Test
  void noHeaderLabelByIndexDefaultShapeClassesAndIds() throws Exception {
    SparkSession spark = SharedSpark.get();
    Path csv = Files.writeString(tmp.resolve("in.csv"), "1;2;3\n4;5;0\n7;8;2\n");
    CsvOptions opts = CsvOptions.builder().header(false).delimiter(";").labelColumn(2).build();
    String out = tmp.resolve("out").toString();
    CsvConverter.convert(spark, csv.toString(), out, opts);
    TensorDataset ds = TensorDatasets.load(spark, out);
    assertEquals(new DatasetInfo(new int[] {2}, List.of("0", "1", "2", "3")), ds.info()); // max label 3
    List<Row> rows = ds.rows().orderBy("id").collectAsList();
    assertEquals(3, rows.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(i, rows.get(i).getLong(2));
      assertEquals(List.of(3f * i + 1, 3f * i + 2), features(rows.get(i)));
    }
    assertEquals(List.of(3, 0, 2), rows.stream().map(r -> r.getInt(1)).toList());
  }

  @Test
  void badValuesAreNamedWithFileColumnAndRowAndLeaveNoOutput() throws Exception {
    SparkSession spark = SharedSpark.get();
    Path csv = Files.writeString(tmp.resolve("bad.csv"), "a,b,label\n1,2,0\n3,oops,1\n");
    CsvOptions opts = CsvOptions.builder().labelColumn("label").build();
    String m = assertThrows(InvalidDatasetException.class,
        () -> CsvConverter.convert(spark, csv.toString(), tmp.resolve("o1").toString(), opts)).getMessage();
    assertTrue(m.contains("bad.csv") && m.contains("column 'b'") && m.contains("data row 1")
        && m.contains("'oops'"), m);

    Path label = Files.writeString(tmp.resolve("label.csv"), "a,label\n1,0\n2,5\n");
    CsvOptions three = CsvOptions.builder().labelColumn("label").classNames(List.of("p", "q", "r")).build();
    m = assertThrows(InvalidDatasetException.class,
        () -> CsvConverter.convert(spark, label.toString(), tmp.resolve("o2").toString(), three)).getMessage();
    assertTrue(m.contains("label.csv") && m.contains("column 'label'") && m.contains("found 5"), m);

    CsvOptions missing = CsvOptions.builder().labelColumn("target").build();
    m = assertThrows(InvalidDatasetException.class,
        () -> CsvConverter.convert(spark, label.toString(), tmp.resolve("o3").toString(), missing)).getMessage();
    assertTrue(m.contains("no label column 'target'") && m.contains("[a, label]"), m);

    CsvOptions shape = CsvOptions.builder().labelColumn("label").shape(2, 2).build();
    m = assertThrows(InvalidDatasetException.class,
        () -> CsvConverter.convert(spark, label.toString(), tmp.resolve("o4").toString(), shape)).getMessage();
    assertTrue(m.contains("1 feature columns") && m.contains("shape 2,2"), m);
    for (String o : List.of("o1", "o2", "o3", "o4")) {
      assertFalse(Files.exists(tmp.resolve(o)), o);
    }
  }

  @Test
  void optionsRejectContradictions() {
    assertThrows(IllegalArgumentException.class, () -> CsvOptions.builder().build());
    assertThrows(IllegalArgumentException.class,
        () -> CsvOptions.builder().labelColumn("a").labelColumn(1).build());
    assertThrows(IllegalArgumentException.class,
        () -> CsvOptions.builder().header(false).labelColumn("a").build());
    assertThrows(IllegalArgumentException.class, () -> CsvOptions.builder().shape(2, 0));
  }
}
