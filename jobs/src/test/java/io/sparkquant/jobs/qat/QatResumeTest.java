package io.sparkquant.jobs.qat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.train.Schedule;
import io.sparkquant.jobs.train.TrainConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qat} runs are reproducible byte for byte, every epoch is scored as int8, and a driver killed after its first
 * checkpoint (a real subprocess, destroyed forcibly) resumes with {@code --resume} to the same .tflite an uninterrupted
 * run writes. A resume with other options is refused naming the difference.
 */
class QatResumeTest {

  private static final int EPOCHS = 3;
  private static final int CALIBRATION_ROWS = 100;
  private static final Duration SUBPROCESS_TIMEOUT = Duration.ofMinutes(5);

  private static String model;

  @TempDir Path tmp;

  @BeforeAll
  static void sourceModel() {
    model = QatFixtures.cnnModel();
  }

  /**
   * Fine-tuning on about 180 of the 6,000 rows, calibrating on 100 first (no table given); ranges refreshed after
   * epoch 1 only.
   */
  private static List<String> qatArgs(Path out) {
    return new ArrayList<>(List.of("qat", "--model", model, "--data", TestDatasets.train(), "--fraction", "0.03",
        "--calibration-rows", Integer.toString(CALIBRATION_ROWS), "--epochs", Integer.toString(EPOCHS),
        "--partitions", "2", "--learning-rate", "0.001", "--local-steps", "2", "--freeze-ranges-after", "1",
        "--out", out.toString()));
  }

  @Test
  void runsAreReproducibleAndAKilledDriverResumesToTheSameModel() throws Exception {
    Path first = tmp.resolve("first");
    Path second = tmp.resolve("second");
    assertEquals(0, Main.execute(qatArgs(first).toArray(String[]::new)));
    assertEquals(0, Main.execute(qatArgs(second).toArray(String[]::new)));
    byte[] reference = Files.readAllBytes(first.resolve(QatJob.TFLITE_FILE));
    assertArrayEquals(reference, Files.readAllBytes(second.resolve(QatJob.TFLITE_FILE)),
        "same seed and partitioning must give the same int8 model");

    JsonNode manifest = new ObjectMapper().readTree(first.resolve(Manifest.FILE_NAME).toFile());
    JsonNode epochs = manifest.get("epochs");
    assertEquals(EPOCHS, epochs.size(), epochs.toString());
    for (JsonNode e : epochs) {
      double int8 = e.get("int8Accuracy").asDouble();
      assertTrue(int8 > 0.2 && int8 <= 1, "int8 accuracy of every epoch, above chance (0.1): " + e);
      assertEquals("training", e.get("int8Rows").asText());
    }
    // Ranges: refreshed after epoch 1 (away from the calibration's), then frozen (--freeze-ranges-after 1).
    Path table = tmp.resolve("table.json");
    assertEquals(0, Main.execute("calibrate", "--model", model, "--data", TestDatasets.train(), "--out",
        table.toString(), "--rows", Integer.toString(CALIBRATION_ROWS), "--seed", "" + TrainConfig.DEFAULT_SEED));
    JsonNode calibrated = new ObjectMapper().readTree(table.toFile()).get("tensors");
    List<JsonNode> ranges = new ArrayList<>();
    for (int e = 1; e <= EPOCHS; e++) {
      Path state = Path.of(first + QatJob.CHECKPOINTS_SUFFIX, "epoch-" + e, "checkpoint.json");
      ranges.add(new ObjectMapper().readTree(state.toFile()).get("ranges"));
      assertEquals(e == 1, epochs.get(e - 1).get("rangesRefreshed").asBoolean());
    }
    int moved = 0;
    for (var it = ranges.get(0).fields(); it.hasNext(); ) {
      var r = it.next();
      JsonNode c = calibrated.get(r.getKey());
      moved += r.getValue().get(0).floatValue() != c.get("rangeMin").floatValue()
          || r.getValue().get(1).floatValue() != c.get("rangeMax").floatValue() ? 1 : 0;
    }
    assertTrue(moved > 0, "the refresh after epoch 1 moved no range: " + ranges.get(0) + " vs " + calibrated);
    assertEquals(ranges.get(0), ranges.get(1), "ranges frozen after epoch 1");
    assertEquals(ranges.get(1), ranges.get(2), "ranges frozen after epoch 1");

    // The driver, killed as soon as its first checkpoint is complete.
    Path resumed = tmp.resolve("resumed");
    Path checkpoints = Path.of(resumed + QatJob.CHECKPOINTS_SUFFIX);
    Process driver = startDriver(qatArgs(resumed), tmp.resolve("driver.log"));
    try {
      long deadline = System.nanoTime() + SUBPROCESS_TIMEOUT.toNanos();
      while (!Files.exists(checkpoints.resolve("epoch-1").resolve("checkpoint.json"))) {
        assertTrue(driver.isAlive(), () -> "the driver ended before its first checkpoint:\n" + log(tmp));
        assertTrue(System.nanoTime() < deadline, () -> "no checkpoint in time:\n" + log(tmp));
        Thread.sleep(100);
      }
    } finally {
      driver.destroyForcibly();
      assertTrue(driver.waitFor(60, TimeUnit.SECONDS));
    }
    assertFalse(Files.exists(resumed), "a killed driver must not leave an output that looks complete");
    assertFalse(Files.exists(checkpoints.resolve("epoch-" + EPOCHS)), "killed before the last epoch");

    List<String> resume = qatArgs(resumed);
    resume.add("--resume");
    assertEquals(0, Main.execute(resume.toArray(String[]::new)));
    assertArrayEquals(reference, Files.readAllBytes(resumed.resolve(QatJob.TFLITE_FILE)),
        "a resumed run must write the uninterrupted run's int8 model");
    JsonNode resumedManifest = new ObjectMapper().readTree(resumed.resolve(Manifest.FILE_NAME).toFile());
    assertTrue(resumedManifest.get("resumedFrom").asText().contains("epoch-"), resumedManifest.toString());
    assertEquals(EPOCHS, resumedManifest.get("epochs").size());

    // Other options than the checkpoint's (the learning rate): refused, naming the option.
    QatJob.Options other = new QatJob.Options(model, TestDatasets.train(), null, null, "minmax", CALIBRATION_ROWS,
        tmp.resolve("other").toString(), new Schedule(EPOCHS, TrainConfig.DEFAULT_BATCH_SIZE, 2,
            TrainConfig.DEFAULT_SEED, 0.002, 1.0, 2), 0.03, 0, false, null, 1, QatJob.DEFAULT_RANGE_MOMENTUM,
        checkpoints.toString(), true, false);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QatJob.run(SharedSpark.get(), other, s -> { }));
    assertTrue(e.getMessage().contains("learningRate: the checkpoint has 0.001, this run 0.002"), e.getMessage());
  }

  /** {@code java <this JVM's flags> -cp <this class path> io.sparkquant.jobs.Main <args>}, output into a file. */
  static Process startDriver(List<String> args, Path log) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // the module opens Spark needs and the javacpp cache (surefire argLine), with a smaller heap
    ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> !a.startsWith("-Xmx") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent"))
        .forEach(command::add);
    command.add("-Xmx2g");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(args);
    command.addAll(List.of("--master", "local[2]"));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    return pb.start();
  }

  private static String log(Path dir) {
    try (Stream<String> lines = Files.lines(dir.resolve("driver.log"))) {
      List<String> all = lines.toList();
      return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
