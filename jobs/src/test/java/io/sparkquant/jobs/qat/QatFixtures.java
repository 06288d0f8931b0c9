package io.sparkquant.jobs.qat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.train.TrainJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One small float model for the qat tests of this JVM: the cnn preset, one epoch on 600 rows of the subset. */
final class QatFixtures {

  private static String model;

  private QatFixtures() {}

  static synchronized String cnnModel() {
    if (model == null) {
      try {
        Path out = Files.createTempDirectory("sparkquant-qat-test-model").resolve("model");
        assertEquals(0, Main.execute("train", "--data", TestDatasets.train(), "--out", out.toString(),
            "--preset", "cnn", "--epochs", "1", "--limit", "600", "--partitions", "2"));
        model = out.resolve(TrainJob.MODEL_FILE).toString();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return model;
  }
}
