package io.sparkquant.jobs;

import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.IdxConverter;
import io.sparkquant.data.testing.SharedSpark;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The bundled Fashion-MNIST subset (600 train / 200 test images per class) converted to Parquet once per
 * test JVM, with the real converter.
 */
public final class TestDatasets {

  private static Path root;

  private TestDatasets() {}

  public static synchronized Path root() {
    if (root == null) {
      try {
        Path dir = Files.createTempDirectory("sparkquant-jobs-test-data");
        FashionMnist.Location subset = FashionMnist.bundledSubset(dir.resolve("idx"));
        IdxConverter.convert(SharedSpark.get(), subset.trainImages(), subset.trainLabels(),
            dir.resolve("train").toString(), FashionMnist.CLASS_NAMES, 2);
        IdxConverter.convert(SharedSpark.get(), subset.testImages(), subset.testLabels(),
            dir.resolve("test").toString(), FashionMnist.CLASS_NAMES, 2);
        root = dir;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return root;
  }

  /** The IDX directory of the bundled subset. */
  public static String idxDir() {
    return root().resolve("idx").resolve("sparkquant-fashion-mnist-subset-v1").toString();
  }

  public static String train() {
    return root().resolve("train").toString();
  }

  public static String test() {
    return root().resolve("test").toString();
  }
}
