package io.sparkquant.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image folders written by ImageIO (PNG and JPEG, gray and RGB), converted, read back with TensorDatasets and
 * compared value by value with ImageIO's own decode of every file.
 */
class ImageFolderConverterTest {

  /** Float32 of v / 255 and the converter's arithmetic agree to the last bit; resizing is double then float. */
  private static final float EXACT = 0f;
  private static final float RESIZE_TOLERANCE = 1e-6f;

  @TempDir Path tmp;

  static BufferedImage image(int type, int w, int h, long seed) {
    BufferedImage img = new BufferedImage(w, h, type);
    Random rnd = new Random(seed);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        if (type == BufferedImage.TYPE_BYTE_GRAY) {
          img.getRaster().setSample(x, y, 0, rnd.nextInt(256));
        } else {
          img.setRGB(x, y, rnd.nextInt(1 << 24));
        }
      }
    }
    return img;
  }

  static Path write(Path dir, String relative, BufferedImage img, String format) throws IOException {
    Path file = dir.resolve(relative);
    Files.createDirectories(file.getParent());
    assertTrue(ImageIO.write(img, format, file.toFile()), "no ImageIO writer for " + format);
    return file;
  }

  /** What the converter must produce for one file: ImageIO's decode, by the documented rule. */
  static float[] expected(Path file, int channels) throws IOException {
    BufferedImage img = ImageIO.read(file.toFile());
    int w = img.getWidth();
    int h = img.getHeight();
    float[] out = new float[w * h * channels];
    boolean gray = img.getType() == BufferedImage.TYPE_BYTE_GRAY;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = img.getRGB(x, y);
        float[] c = gray ? new float[] {img.getRaster().getSample(x, y, 0) / 255f}
            : new float[] {((rgb >> 16) & 0xff) / 255f, ((rgb >> 8) & 0xff) / 255f, (rgb & 0xff) / 255f};
        for (int k = 0; k < channels; k++) {
          out[(y * w + x) * channels + k] = c.length == 1 ? c[0] : c[k];
        }
      }
    }
    return out;
  }

  private static float[] features(Row r) {
    List<Float> list = r.getList(r.fieldIndex("features"));
    float[] f = new float[list.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = list.get(i);
    }
    return f;
  }

  private static void assertClose(float[] expected, float[] actual, float tolerance, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      if (Math.abs(expected[i] - actual[i]) > tolerance) {
        assertEquals(expected[i], actual[i], tolerance, what + ": value " + i);
      }
    }
  }

  @Test
  void rgbPngAndJpegInThreeClassesMatchImageIoValueByValue() throws IOException {
    SparkSession spark = SharedSpark.get();
    Path in = tmp.resolve("in");
    // Class folders out of order on purpose, a gray PNG among RGB files (channels become 3), a nested folder.
    Path[] files = {
      write(in, "zebra/b.png", image(BufferedImage.TYPE_INT_RGB, 5, 4, 1), "png"),
      write(in, "zebra/a.jpg", image(BufferedImage.TYPE_INT_RGB, 5, 4, 2), "jpg"),
      write(in, "ant/x.png", image(BufferedImage.TYPE_BYTE_GRAY, 5, 4, 3), "png"),
      write(in, "cat/sub/y.JPEG", image(BufferedImage.TYPE_INT_RGB, 5, 4, 4), "jpeg"),
      write(in, "cat/z.png", image(BufferedImage.TYPE_INT_RGB, 5, 4, 5), "png"),
    };
    Files.writeString(in.resolve(".DS_Store"), "hidden files are skipped");
    String out = tmp.resolve("out").toString();
    assertEquals(5, ImageFolderConverter.convert(spark, in.toString(), out,
        new ImageFolderConverter.Options(0, 0, 0, 2), false));

    TensorDataset data = TensorDatasets.load(spark, out);
    assertEquals(new DatasetInfo(new int[] {4, 5, 3}, List.of("ant", "cat", "zebra")), data.info());
    List<Row> rows = data.rows().orderBy("id").collectAsList();
    // ids: sorted relative paths ant/x.png, cat/sub/y.JPEG, cat/z.png, zebra/a.jpg, zebra/b.png
    int[] fileOfId = {2, 3, 4, 1, 0};
    int[] labelOfId = {0, 1, 1, 2, 2};
    for (int id = 0; id < 5; id++) {
      Row r = rows.get(id);
      assertEquals(id, r.getLong(r.fieldIndex("id")));
      assertEquals(labelOfId[id], r.getInt(r.fieldIndex("label")), "label of id " + id);
      assertClose(expected(files[fileOfId[id]], 3), features(r), EXACT, files[fileOfId[id]].toString());
    }
    Map<String, String> provenance = TensorDatasets.readProvenance(out, spark.sparkContext().hadoopConfiguration());
    assertTrue(provenance.get("channels").startsWith("3 (some image"), provenance.toString());
  }

  @Test
  void grayImagesGiveOneChannelWithTheStoredValuesAndColourBecomesLuma() throws IOException {
    SparkSession spark = SharedSpark.get();
    Path in = tmp.resolve("gray");
    BufferedImage g = image(BufferedImage.TYPE_BYTE_GRAY, 3, 2, 7);
    g.getRaster().setSample(0, 0, 0, 128); // Java 2D's getRGB would give 186 here (linear gray to sRGB)
    Path a = write(in, "a/g.png", g, "png");
    Path b = write(in, "b/g.png", image(BufferedImage.TYPE_BYTE_GRAY, 3, 2, 8), "png");
    String out = tmp.resolve("out").toString();
    ImageFolderConverter.convert(spark, in.toString(), out, new ImageFolderConverter.Options(0, 0, 0, 1), false);
    TensorDataset data = TensorDatasets.load(spark, out);
    assertArrayEquals(new int[] {2, 3, 1}, data.info().shape());
    List<Row> rows = data.rows().orderBy("id").collectAsList();
    assertEquals(128 / 255f, features(rows.get(0))[0]);
    assertClose(expected(a, 1), features(rows.get(0)), EXACT, "a/g.png");
    assertClose(expected(b, 1), features(rows.get(1)), EXACT, "b/g.png");

    // Colour asked for 1 channel: BT.601 luma of the sRGB values.
    Path c = tmp.resolve("colour");
    BufferedImage rgb = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    rgb.setRGB(0, 0, (200 << 16) | (100 << 8) | 50);
    write(c, "only/p.png", rgb, "png");
    String out2 = tmp.resolve("out2").toString();
    ImageFolderConverter.convert(spark, c.toString(), out2, new ImageFolderConverter.Options(0, 0, 1, 1), false);
    float luma = features(TensorDatasets.load(spark, out2).rows().first())[0];
    assertEquals(0.299f * 200 / 255f + 0.587f * 100 / 255f + 0.114f * 50 / 255f, luma, 1e-6f);
  }

  @Test
  void sizeResizesBilinearlyAndKeepsImagesOfThatSizeExact() throws IOException {
    SparkSession spark = SharedSpark.get();
    Path in = tmp.resolve("in");
    Path same = write(in, "a/same.png", image(BufferedImage.TYPE_INT_RGB, 4, 2, 11), "png");
    BufferedImage big = new BufferedImage(8, 4, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 8; x++) {
        big.getRaster().setSample(x, y, 0, 10 * x + 40 * y);
      }
    }
    write(in, "b/big.png", big, "png");
    String out = tmp.resolve("out").toString();
    ImageFolderConverter.convert(spark, in.toString(), out, new ImageFolderConverter.Options(2, 4, 0, 2), false);
    List<Row> rows = TensorDatasets.load(spark, out).rows().orderBy("id").collectAsList();
    assertClose(expected(same, 3), features(rows.get(0)), EXACT, "a/same.png, already 2x4");
    // Halving a linear ramp with half-pixel centres samples between pixels 2x and 2x+1: the mean of the two.
    float[] resized = features(rows.get(1));
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 4; x++) {
        float v = (10 * (2 * x + 0.5f) + 40 * (2 * y + 0.5f)) / 255f;
        for (int c = 0; c < 3; c++) {
          assertEquals(v, resized[(y * 4 + x) * 3 + c], RESIZE_TOLERANCE, "y=" + y + " x=" + x + " c=" + c);
        }
      }
    }
  }

  @Test
  void badFoldersAreNamedAndLeaveNoOutput() throws IOException {
    SparkSession spark = SharedSpark.get();
    ImageFolderConverter.Options auto = new ImageFolderConverter.Options(0, 0, 0, 2);

    Path mixed = tmp.resolve("mixed");
    write(mixed, "a/1.png", image(BufferedImage.TYPE_INT_RGB, 4, 3, 1), "png");
    write(mixed, "a/2.png", image(BufferedImage.TYPE_INT_RGB, 4, 3, 2), "png");
    write(mixed, "b/3.png", image(BufferedImage.TYPE_INT_RGB, 6, 3, 3), "png");
    write(mixed, "b/4.png", image(BufferedImage.TYPE_INT_RGB, 2, 2, 4), "png");
    String m = message(spark, mixed, auto);
    assertTrue(m.contains("a/1.png is 3x4 (HxW)") && m.contains("b/3.png is 3x6") && m.contains("3 different sizes")
        && m.contains("--size"), m);

    Path corrupt = tmp.resolve("corrupt");
    write(corrupt, "a/ok.png", image(BufferedImage.TYPE_INT_RGB, 4, 3, 1), "png");
    Files.write(corrupt.resolve("a/bad.png"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    m = message(spark, corrupt, auto);
    assertTrue(m.contains("a/bad.png") && m.contains("not a readable PNG or JPEG"), m);

    // A JPEG cut in half: the header reads, the pixels do not (ImageIO only warns; the converter refuses).
    Path truncated = tmp.resolve("truncated");
    Path jpg = write(truncated, "a/cut.jpg", image(BufferedImage.TYPE_INT_RGB, 64, 64, 9), "jpg");
    byte[] bytes = Files.readAllBytes(jpg);
    Files.write(jpg, Arrays.copyOf(bytes, bytes.length / 2));
    m = message(spark, truncated, auto);
    assertTrue(m.contains("a/cut.jpg") && m.contains("corrupt or unreadable"), m);

    Path stray = tmp.resolve("stray");
    write(stray, "a/1.png", image(BufferedImage.TYPE_INT_RGB, 4, 3, 1), "png");
    Files.writeString(stray.resolve("labels.txt"), "x");
    m = message(spark, stray, auto);
    assertTrue(m.contains("Stray file") && m.contains("labels.txt"), m);

    Path empty = tmp.resolve("empty");
    write(empty, "a/1.png", image(BufferedImage.TYPE_INT_RGB, 4, 3, 1), "png");
    Files.createDirectories(empty.resolve("b"));
    m = message(spark, empty, auto);
    assertTrue(m.contains("Class folder") && m.contains("empty/b") && m.contains("holds no images"), m);

    Path notImage = tmp.resolve("notimage");
    write(notImage, "a/1.png", image(BufferedImage.TYPE_INT_RGB, 4, 3, 1), "png");
    Files.writeString(notImage.resolve("a/readme.txt"), "x");
    m = message(spark, notImage, auto);
    assertTrue(m.contains("a/readme.txt") && m.contains("not a PNG or JPEG"), m);

    assertFalse(Files.exists(tmp.resolve("out")));
    try (var left = Files.list(tmp)) {
      assertTrue(left.noneMatch(p -> p.getFileName().toString().startsWith(".out")), "temporary output left");
    }
  }

  private String message(SparkSession spark, Path in, ImageFolderConverter.Options options) {
    return assertThrows(InvalidDatasetException.class, () -> ImageFolderConverter.convert(spark, in.toString(),
        tmp.resolve("out").toString(), options, false)).getMessage();
  }
}
