package io.sparkquant.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class IdxConverterTest {

  private static final List<String> CLASSES = List.of("zero", "one", "two", "three");

  @TempDir Path tmp;

  /**
   * Compares every batch element on the executors with the IDX bytes (shipped in the closure) and returns
   * {rows, elements compared, mismatches, batches, last batch size}; the rows never reach the driver.
   */
  record CompareWithIdx(DatasetInfo info, byte[] pixels, byte[] labels, int batchSize, Layout layout)
      implements FlatMapFunction<Iterator<Row>, long[]> {
    @Override
    public Iterator<long[]> call(Iterator<Row> rows) {
      int[] shape = info.shape();
      int h = shape[0];
      int w = shape[1];
      int c = shape[2];
      long[] stats = new long[5];
      Iterator<Batch> batches = Batches.batchIterator(rows, info, batchSize, layout);
      while (batches.hasNext()) {
        Batch b = batches.next();
        INDArray f = b.features();
        for (int n = 0; n < b.size(); n++) {
          int id = (int) b.ids()[n];
          if (b.labels()[n] != labels[id]) {
            stats[2]++;
          }
          for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
              for (int ch = 0; ch < c; ch++) {
                float expected = (pixels[id * h * w * c + (y * w + x) * c + ch] & 0xff) / 255f;
                float actual = switch (layout) {
                  case NCHW -> f.getFloat(n, ch, y, x);
                  case NHWC -> f.getFloat(n, y, x, ch);
                  case FLAT -> f.getFloat(n, (y * w + x) * c + ch);
                };
                stats[1]++;
                if (expected != actual) {
                  stats[2]++;
                }
              }
            }
          }
        }
        stats[0] += b.size();
        stats[3]++;
        stats[4] = b.size();
      }
      return List.of(stats).iterator();
    }
  }

  static long[] compare(TensorDataset ds, byte[] pixels, byte[] labels, int batchSize, Layout layout) {
    long[] total = new long[4];
    for (long[] s : ds.rows().toJavaRDD()
        .mapPartitions(new CompareWithIdx(ds.info(), pixels, labels, batchSize, layout)).collect()) {
      for (int i = 0; i < 4; i++) {
        total[i] += s[i];
      }
    }
    return total;
  }

  @Test
  void gzippedAndRawIdxRoundTripToBatchesElementByElement() throws Exception {
    SparkSession spark = SharedSpark.get();
    IdxTestFiles idx = new IdxTestFiles(37, 3, 5, CLASSES.size(), 7);
    for (boolean gzip : new boolean[] {true, false}) {
      Path images = idx.writeImages(tmp.resolve("images-" + gzip), gzip);
      Path labels = idx.writeLabels(tmp.resolve("labels-" + gzip), gzip);
      String out = tmp.resolve("out-" + gzip).toString();
      assertEquals(37, IdxConverter.convert(spark, images.toString(), labels.toString(), out, CLASSES, 3));
      DatasetInfo info = TensorDatasets.readInfo(out, spark.sparkContext().hadoopConfiguration());
      assertEquals(new DatasetInfo(new int[] {3, 5, 1}, CLASSES), info);
      assertEquals(images.toString(),
          TensorDatasets.readProvenance(out, spark.sparkContext().hadoopConfiguration()).get("images"));
      TensorDataset ds = TensorDatasets.load(spark, out);
      try (var files = Files.list(Path.of(out))) {
        assertEquals(3, files.filter(p -> p.getFileName().toString().startsWith("part-")).count(), "one per partition");
      }
      for (Layout layout : Layout.values()) {
        long[] s = compare(ds, idx.pixels, idx.labels, 8, layout);
        assertEquals(37, s[0], layout + " rows");
        assertEquals(37L * 15, s[1], layout + " elements");
        assertEquals(0, s[2], layout + " mismatches");
      }
      List<Row> ids = ds.rows().select("id").orderBy("id").collectAsList();
      for (int i = 0; i < 37; i++) {
        assertEquals(i, ids.get(i).getLong(0));
      }
    }
  }

  @Test
  void bundledFashionMnistTestSubsetRoundTripsToNchwBatches() throws Exception {
    SparkSession spark = SharedSpark.get();
    FashionMnist.Location loc = FashionMnist.bundledSubset(tmp.resolve("cache"));
    IdxFile.Contents images = IdxFile.read(Path.of(loc.testImages()), IdxFile.IMAGES_MAGIC);
    IdxFile.Contents labels = IdxFile.read(Path.of(loc.testLabels()), IdxFile.LABELS_MAGIC);
    String out = tmp.resolve("fmnist-test").toString();
    IdxConverter.convert(spark, loc.testImages(), loc.testLabels(), out, FashionMnist.CLASS_NAMES, 2);
    TensorDataset ds = TensorDatasets.load(spark, out);
    assertEquals(new DatasetInfo(new int[] {28, 28, 1}, FashionMnist.CLASS_NAMES), ds.info());
    long[] s = compare(ds, images.data(), labels.data(), 256, Layout.NCHW);
    assertArrayEquals(new long[] {2000, 2000L * 784, 0, 8}, s);
  }

  @Test
  void wrongMagicIsNamedAndLeavesNoOutput() throws Exception {
    IdxTestFiles idx = new IdxTestFiles(5, 2, 2, CLASSES.size(), 1);
    Path labels = idx.writeLabels(tmp.resolve("labels"), false);
    InvalidDatasetException e = assertThrows(InvalidDatasetException.class, () -> IdxConverter.convert(
        SharedSpark.get(), labels.toString(), labels.toString(), tmp.resolve("out").toString(), CLASSES, 1));
    assertTrue(e.getMessage().contains(labels.toString()) && e.getMessage().contains("0x00000801")
        && e.getMessage().contains("expected 0x00000803"), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("out")));
  }

  @Test
  void countMismatchTruncationAndBadLabelsAreNamed() throws Exception {
    SparkSession spark = SharedSpark.get();
    IdxTestFiles idx = new IdxTestFiles(20, 4, 4, CLASSES.size(), 3);
    Path images = idx.writeImages(tmp.resolve("images.gz"), true);
    Path fewerLabels = IdxTestFiles.write(tmp.resolve("labels19"), false, new int[] {19},
        java.util.Arrays.copyOf(idx.labels, 19));
    String m = assertThrows(InvalidDatasetException.class, () -> IdxConverter.convert(spark, images.toString(),
        fewerLabels.toString(), tmp.resolve("o1").toString(), CLASSES, 2)).getMessage();
    assertTrue(m.contains("20 images") && m.contains("19 labels"), m);

    Path labels = idx.writeLabels(tmp.resolve("labels.gz"), true);
    Path rawImages = idx.writeImages(tmp.resolve("images.raw"), false);
    try (RandomAccessFile raf = new RandomAccessFile(rawImages.toFile(), "rw")) {
      raf.setLength(raf.length() - 1);
    }
    m = assertThrows(InvalidDatasetException.class, () -> IdxConverter.convert(spark, rawImages.toString(),
        labels.toString(), tmp.resolve("o2").toString(), CLASSES, 2)).getMessage();
    assertTrue(m.contains(rawImages.toString()) && m.contains("needs exactly 336"), m);

    try (RandomAccessFile raf = new RandomAccessFile(images.toFile(), "rw")) {
      raf.setLength(raf.length() / 2);
    }
    m = assertThrows(InvalidDatasetException.class, () -> IdxConverter.convert(spark, images.toString(),
        labels.toString(), tmp.resolve("o3").toString(), CLASSES, 2)).getMessage();
    assertTrue(m.contains(images.toString()) && m.contains("truncated"), m);

    Path goodImages = idx.writeImages(tmp.resolve("images2.gz"), true);
    m = assertThrows(InvalidDatasetException.class, () -> IdxConverter.convert(spark, goodImages.toString(),
        labels.toString(), tmp.resolve("o4").toString(), CLASSES.subList(0, 2), 2)).getMessage();
    assertTrue(m.contains(labels.toString()) && m.contains("'label'") && m.contains("[0, 2)"), m);
    for (String o : List.of("o1", "o2", "o3", "o4")) {
      assertFalse(Files.exists(tmp.resolve(o)), o);
    }
    try (var left = Files.list(tmp)) {
      assertTrue(left.noneMatch(p -> p.getFileName().toString().startsWith(".o")), "temporary output left");
    }
  }
}
