package io.sparkquant.jobs;

import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.IdxConverter;
import io.sparkquant.data.testing.SharedSpark;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The bundled Fashion-MNIST subset (600 train / 200 test images per class), extracted once per test JVM and
 * converted to Parquet with the real converter on first use.
 */
public final class TestDatasets {

  private static Path root;
  private static FashionMnist.Location subset;
  private static String train;
  private static String test;

  private TestDatasets() {}

  private static synchronized Path root() {
    if (root == null) {
      try {
        root = Files.createTempDirectory("sparkquant-jobs-test-data");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      subset = FashionMnist.bundledSubset(root.resolve("idx"));
    }
    return root;
  }

  /** The directory of the four IDX files. */
  public static synchronized String idxDir() {
    root();
    return Path.of(subset.trainImages()).getParent().toString();
  }

  /** 6,000 training rows in 2 files. */
  public static synchronized String train() {
    if (train == null) {
      train = root().resolve("train").toString();
      IdxConverter.convert(SharedSpark.get(), subset.trainImages(), subset.trainLabels(), train,
          FashionMnist.CLASS_NAMES, 2);
    }
    return train;
  }

  /** 2,000 test rows in 2 files. */
  public static synchronized String test() {
    if (test == null) {
      test = root().resolve("test").toString();
      IdxConverter.convert(SharedSpark.get(), subset.testImages(), subset.testLabels(), test,
          FashionMnist.CLASS_NAMES, 2);
    }
    return test;
  }
}
