package io.sparkquant.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code convert --from images|parquet|csv} through the CLI: converted data read back, and bad input refused with
 * its exit code, one line naming the file or option, and nothing written.
 */
class ImageFolderConvertTest {

  @TempDir Path tmp;

  record Run(int code, String err) {}

  static Run run(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, err.toString().strip());
  }

  static void png(Path file, int w, int h, int type, long seed) throws IOException {
    BufferedImage img = new BufferedImage(w, h, type);
    Random rnd = new Random(seed);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rnd.nextInt(1 << 24));
      }
    }
    Files.createDirectories(file.getParent());
    assertTrue(ImageIO.write(img, file.toString().endsWith(".png") ? "png" : "jpg", file.toFile()));
  }

  /** The refusal is one line, starts with the command, holds every fragment, and nothing appeared at out. */
  static void assertRefused(Run r, int code, Path out, String... fragments) {
    assertEquals(code, r.code(), r.err());
    assertEquals(1, r.err().lines().count(), "not one line:\n" + r.err());
    assertTrue(r.err().startsWith("sparkquant convert: "), r.err());
    for (String f : fragments) {
      assertTrue(r.err().contains(f), "the line does not name '" + f + "': " + r.err());
    }
    assertFalse(Files.exists(out), out + " was written");
    try (Stream<Path> siblings = Files.list(out.getParent())) {
      assertTrue(siblings.noneMatch(p -> p.getFileName().toString().startsWith("." + out.getFileName())),
          "temporary output left beside " + out);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void imageFolderWithSizeAndChannels() throws IOException {
    SparkSession spark = SharedSpark.get();
    Path in = tmp.resolve("in");
    png(in.resolve("dog/1.png"), 6, 4, BufferedImage.TYPE_INT_RGB, 1);
    png(in.resolve("cat/2.jpg"), 12, 8, BufferedImage.TYPE_INT_RGB, 2);
    png(in.resolve("cat/1.png"), 3, 2, BufferedImage.TYPE_INT_RGB, 3);
    String out = tmp.resolve("out").toString();
    Run r = run("convert", "--from", "images", "--input", in.toString(), "--out", out, "--size", "4x6",
        "--channels", "1", "--partitions", "2");
    assertEquals(0, r.code(), r.err());
    TensorDataset data = TensorDatasets.load(spark, out);
    assertArrayEquals(new int[] {4, 6, 1}, data.info().shape());
    assertEquals(List.of("cat", "dog"), data.info().classNames());
    List<Row> rows = data.rows().orderBy("id").collectAsList();
    assertEquals(List.of(0, 0, 1), rows.stream().map(x -> x.getInt(x.fieldIndex("label"))).toList());
  }

  @Test
  void badImageFoldersAndOptions() throws IOException {
    SharedSpark.get();
    Path out = tmp.resolve("out");
    String o = out.toString();

    Path mixed = tmp.resolve("mixed");
    png(mixed.resolve("a/1.png"), 4, 3, BufferedImage.TYPE_INT_RGB, 1);
    png(mixed.resolve("b/2.png"), 5, 3, BufferedImage.TYPE_INT_RGB, 2);
    assertRefused(run("convert", "--from", "images", "--input", mixed.toString(), "--out", o), 1, out,
        "a/1.png is 3x4 (HxW)", "b/2.png is 3x5", "--size");

    Path corrupt = tmp.resolve("corrupt");
    png(corrupt.resolve("a/1.png"), 4, 3, BufferedImage.TYPE_INT_RGB, 1);
    Files.writeString(corrupt.resolve("a/2.png"), "not a png");
    assertRefused(run("convert", "--from", "images", "--input", corrupt.toString(), "--out", o), 1, out,
        "a/2.png", "not a readable PNG or JPEG");

    Path stray = tmp.resolve("stray");
    png(stray.resolve("a/1.png"), 4, 3, BufferedImage.TYPE_INT_RGB, 1);
    Files.writeString(stray.resolve("notes.txt"), "x");
    assertRefused(run("convert", "--from", "images", "--input", stray.toString(), "--out", o), 1, out,
        "Stray file", "notes.txt");

    Path empty = tmp.resolve("empty");
    png(empty.resolve("a/1.png"), 4, 3, BufferedImage.TYPE_INT_RGB, 1);
    Files.createDirectories(empty.resolve("b"));
    assertRefused(run("convert", "--from", "images", "--input", empty.toString(), "--out", o), 1, out,
        "Class folder", "empty/b", "holds no images");

    assertRefused(run("convert", "--from", "images", "--input", mixed.toString(), "--out", o, "--size", "28"), 2,
        out, "size must be HxW", "'28'");
    assertRefused(run("convert", "--from", "images", "--input", mixed.toString(), "--out", o, "--channels", "2"), 2,
        out, "channels must be 1 or 3");
    assertRefused(run("convert", "--from", "images", "--input", mixed.toString(), "--out", o, "--shape", "2,2"), 2,
        out, "--shape does not apply to --from images");
    assertRefused(run("convert", "--from", "images", "--input", tmp.resolve("none").toString(), "--out", o), 2,
        out, "--input", "does not exist");
  }

  @Test
  void parquetWithNamedColumnsAndItsRefusals() throws IOException {
    SparkSession spark = SharedSpark.get();
    String in = tmp.resolve("user.parquet").toString();
    spark.range(6).selectExpr("transform(sequence(0, 3), i -> CAST(id * 10 + i AS DOUBLE)) AS pixels",
        "CAST(id % 2 AS INT) AS y", "id + 100 AS key").coalesce(1).write().parquet(in);
    String out = tmp.resolve("out").toString();
    Run r = run("convert", "--from", "parquet", "--input", in, "--out", out, "--features-col", "pixels",
        "--label-col", "y", "--id-col", "key", "--shape", "2,2,1", "--class-names", "even,odd");
    assertEquals(0, r.code(), r.err());
    TensorDataset data = TensorDatasets.load(spark, out);
    assertEquals(List.of("even", "odd"), data.info().classNames());
    Row third = data.rows().orderBy("id").collectAsList().get(3);
    assertEquals(103L, third.getLong(third.fieldIndex("id")));
    assertEquals(1, third.getInt(third.fieldIndex("label")));
    assertEquals(List.of(30f, 31f, 32f, 33f), third.getList(third.fieldIndex("features")));

    // Unlabelled, positional ids.
    String unlabelled = tmp.resolve("unlabelled").toString();
    r = run("convert", "--from", "parquet", "--input", in, "--out", unlabelled, "--features-col", "pixels",
        "--no-label", "--shape", "4");
    assertEquals(0, r.code(), r.err());
    assertFalse(TensorDatasets.loadFeatures(spark, unlabelled, null).labelled());

    Path bad = tmp.resolve("bad");
    assertRefused(run("convert", "--from", "parquet", "--input", in, "--out", bad.toString(), "--features-col",
        "pixels", "--label-col", "y", "--shape", "3"), 1, bad, "'pixels'", "row 0", "expected 3 values (shape 3)",
        "found 4 values");
    assertRefused(run("convert", "--from", "parquet", "--input", in, "--out", bad.toString(), "--features-col",
        "pixels", "--label-col", "y", "--class-names", "one", "--shape", "4"), 1, bad, "'y'",
        "[0, 1)", "found 1");
    assertRefused(run("convert", "--from", "parquet", "--input", in, "--out", bad.toString(), "--features-col",
        "px", "--no-label", "--shape", "4"), 1, bad, "Missing column 'px'", "[pixels, y, key]");
    assertRefused(run("convert", "--from", "parquet", "--input", in, "--out", bad.toString(), "--features-col",
        "pixels", "--no-label"), 2, bad, "--shape is required");
    assertRefused(run("convert", "--from", "parquet", "--input", in, "--out", bad.toString(), "--no-label",
        "--label-col", "y", "--shape", "4"), 2, bad, "--label-col or --no-label");
  }

  @Test
  void csvWithFeaturePrefixUnlabelled() throws IOException {
    SparkSession spark = SharedSpark.get();
    Path csv = Files.writeString(tmp.resolve("in.csv"), "id,px0,px1,px2,px3,comment\n7,1,2,3,4,9\n8,5,6,7,8,9\n");
    String out = tmp.resolve("out").toString();
    Run r = run("convert", "--from", "csv", "--input", csv.toString(), "--out", out, "--features-col", "px*",
        "--no-label", "--id-col", "id", "--shape", "2,2,1");
    assertEquals(0, r.code(), r.err());
    TensorDataset data = TensorDatasets.loadFeatures(spark, out, null);
    assertFalse(data.labelled());
    Row second = data.rows().orderBy("id").collectAsList().get(1);
    assertEquals(8L, second.getLong(second.fieldIndex("id")));
    assertEquals(List.of(5f, 6f, 7f, 8f), second.getList(second.fieldIndex("features")));
  }
}
