package io.sparkquant.jobs.qat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A non-finite loss stops {@code qat} with one line naming the epoch, the round and the last checkpoint, exit code 1,
 * no output, and every checkpoint file as it was. Fake quantization clamps every activation to its range, so a
 * diverging learning rate does not overflow QAT as it does float training ({@code DivergenceTest}); the NaN comes
 * from a checkpoint whose first weight is set to NaN before {@code --resume}.
 */
class QatDivergenceTest {

  private static final int BAD_INPUT = 1;

  @TempDir Path tmp;

  @Test
  void nonFiniteLossStopsWithOneLineAndKeepsTheCheckpoints() throws IOException {
    Path checkpoints = tmp.resolve("checkpoints");
    List<String> common = List.of("qat", "--model", QatFixtures.cnnModel(), "--data", TestDatasets.train(),
        "--fraction", "0.03", "--calibration-rows", "100", "--partitions", "2", "--local-steps", "2",
        "--freeze-ranges-after", "0", "--checkpoint-dir", checkpoints.toString());
    assertEquals(0, execute(new StringWriter(), with(common, "--epochs", "1", "--out", tmp.resolve("first"))));

    Path zip = checkpoints.resolve("epoch-1").resolve(QatCheckpoint.MODEL_FILE);
    ComputationGraph network = ModelSerializer.restoreComputationGraph(zip.toFile(), true);
    network.params().putScalar(0, Float.NaN);
    ModelSerializer.writeModel(network, zip.toFile(), true);
    Map<Path, byte[]> before = files(checkpoints);

    StringWriter err = new StringWriter();
    Path out = tmp.resolve("resumed");
    int code = execute(err, with(common, "--epochs", "2", "--resume", "--out", out));
    String message = err.toString().strip();
    assertEquals(BAD_INPUT, code, message);
    assertEquals(1, message.lines().count(), message);
    assertTrue(message.startsWith("qat: training diverged in epoch 2, round 1/"), message);
    assertTrue(message.contains("the last good checkpoint is ") && message.contains("epoch-1"), message);
    assertFalse(Files.exists(out), "no output after a diverged run");
    assertFalse(Files.exists(checkpoints.resolve("epoch-2")), "no checkpoint of the diverged epoch");
    Map<Path, byte[]> after = files(checkpoints);
    assertEquals(before.keySet(), after.keySet());
    before.forEach((file, bytes) -> assertArrayEquals(bytes, after.get(file), file + " changed"));
  }

  private static String[] with(List<String> common, Object... more) {
    List<String> args = new ArrayList<>(common);
    for (Object m : more) {
      args.add(m.toString());
    }
    return args.toArray(String[]::new);
  }

  private static int execute(StringWriter err, String... args) {
    CommandLine cl = Main.commandLine();
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  private static Map<Path, byte[]> files(Path dir) throws IOException {
    Map<Path, byte[]> files = new TreeMap<>();
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.filter(Files::isRegularFile).toList()) {
        files.put(dir.relativize(p), Files.readAllBytes(p));
      }
    }
    return files;
  }
}
