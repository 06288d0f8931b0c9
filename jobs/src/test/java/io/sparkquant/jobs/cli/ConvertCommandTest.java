package io.sparkquant.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** convert through the CLI, read back with dataset-io. */
class ConvertCommandTest {

  @TempDir Path tmp;

  @Test
  void idxTestSplitOfTheBundledSubset() {
    SharedSpark.get();
    String out = tmp.resolve("test").toString();
    assertEquals(0, Main.execute("convert", "--format", "idx", "--input", TestDatasets.idxDir(), "--split", "test",
        "--out", out, "--partitions", "3"));
    TensorDataset data = TensorDatasets.load(SharedSpark.get(), out);
    assertEquals(2000, data.rows().count());
    assertArrayEquals(new int[] {28, 28, 1}, data.info().shape());
    assertEquals(FashionMnist.CLASS_NAMES, data.info().classNames());
    // a second run needs --overwrite, and then replaces the data
    assertEquals(2, Main.execute("convert", "--format", "idx", "--input", TestDatasets.idxDir(), "--split", "test",
        "--out", out));
    assertEquals(0, Main.execute("convert", "--format", "idx", "--input", TestDatasets.idxDir(), "--split", "test",
        "--out", out, "--overwrite"));
  }

  @Test
  void csvWithHeaderLabelColumnAndShape() throws Exception {
    SharedSpark.get();
    Path csv = Files.writeString(tmp.resolve("small.csv"),
        "a,b,label,c,d\n0.5,1,1,2,3\n-1,0,0,0.25,4\n");
    String out = tmp.resolve("csv").toString();
    assertEquals(0, Main.execute("convert", "--format", "csv", "--input", csv.toString(), "--out", out,
        "--csv-label", "label", "--shape", "2,2,1", "--class-names", "no,yes"));
    TensorDataset data = TensorDatasets.load(SharedSpark.get(), out);
    assertArrayEquals(new int[] {2, 2, 1}, data.info().shape());
    assertEquals(List.of("no", "yes"), data.info().classNames());
    List<Row> rows = data.rows().orderBy("id").collectAsList();
    assertEquals(2, rows.size());
    assertEquals(List.of(0.5f, 1f, 2f, 3f), rows.get(0).getList(rows.get(0).fieldIndex("features")));
    assertEquals(1, rows.get(0).getInt(rows.get(0).fieldIndex("label")));
    assertEquals(0, rows.get(1).getInt(rows.get(1).fieldIndex("label")));
    assertTrue(Files.exists(Path.of(out)));
  }
}
