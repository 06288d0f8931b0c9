package io.sparkquant.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkquant.jobs.train.TrainJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Two tiny {@code train --preset mlp} models of the same architecture (1 epoch on 300 rows, seeds 1 and 2) and a
 * calibration table of each, made once per test JVM through the CLI.
 */
final class TinyModels {

  private static Path root;

  private TinyModels() {}

  private static synchronized Path root() {
    if (root == null) {
      try {
        root = Files.createTempDirectory("sparkquant-tiny-models");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      for (int seed : new int[] {1, 2}) {
        Path out = root.resolve("mlp" + seed);
        assertEquals(0, Main.execute("train", "--data", TestDatasets.train(), "--out", out.toString(),
            "--preset", "mlp", "--epochs", "1", "--limit", "300", "--partitions", "2", "--seed", "" + seed));
        assertEquals(0, Main.execute("calibrate", "--model", out.resolve(TrainJob.MODEL_FILE).toString(),
            "--data", TestDatasets.train(), "--out", root.resolve("table" + seed + ".json").toString(),
            "--rows", "200"));
      }
    }
    return root;
  }

  /** The model zip of seed 1 or 2. */
  static String model(int seed) {
    return root().resolve("mlp" + seed).resolve(TrainJob.MODEL_FILE).toString();
  }

  /** The calibration table computed on {@link #model}(seed). */
  static String table(int seed) {
    return root().resolve("table" + seed + ".json").toString();
  }
}
