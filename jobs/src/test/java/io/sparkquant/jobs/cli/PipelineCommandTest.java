package io.sparkquant.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sparkquant pipeline} on the bundled subset (cnn, 300 training rows, 300 test rows): a rerun skips every
 * completed step and rewrites nothing; a stricter gate on the same outputs fails with exit code 4 and one line naming
 * the condition and the figures; an invalid config is refused (exit 2) before Spark starts.
 */
class PipelineCommandTest {

  @TempDir Path tmp;

  private record Run(int code, String out, String err) {}

  private static Run pipeline(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(Stream.concat(Stream.of("pipeline"), Stream.of(args)).toArray(String[]::new));
    return new Run(code, out.toString(), err.toString());
  }

  private Path config(String name, String gate) throws Exception {
    Path file = tmp.resolve(name);
    Files.writeString(file, """
        {
          "root": "%s",
          "data": {"train": "%s", "test": "%s"},
          "train": {"preset": "cnn", "epochs": 1, "rows": 300, "partitions": 2},
          "calibrate": {"method": "minmax", "rows": 200},
          "quantize": {"modes": ["int8"]},
          "evaluate": {"rows": 300},
          "gate": %s
        }
        """.formatted(tmp.resolve("run"), TestDatasets.train(), TestDatasets.test(), gate));
    return file;
  }

  @Test
  void rerunSkipsEveryCompletedStepAndAStricterGateFailsWithItsExitCode() throws Exception {
    Path config = config("pipeline.json", "{\"minAccuracy\": 0.3}");
    Run first = pipeline("--config", config.toString());
    assertEquals(0, first.code(), first.out() + first.err());
    for (String step : List.of("train", "calibrate", "quantize", "evaluate", "report", "gate")) {
      assertTrue(first.out().contains("step " + step + ": done"), step + ":\n" + first.out());
    }
    assertTrue(first.out().contains("Gate passed"), first.out());
    Path root = tmp.resolve("run");
    for (String file : List.of("model/model.zip", "calib/table.json", "quant/model-int8.tflite", "eval/metrics.json",
        "report/summary.json", "pipeline/train.json", "pipeline/report.json")) {
      assertTrue(Files.exists(root.resolve(file)), file);
    }
    Map<Path, FileTime> written = modificationTimes(root);

    Run second = pipeline("--config", config.toString());
    assertEquals(0, second.code(), second.out() + second.err());
    for (String step : List.of("train", "calibrate", "quantize", "evaluate", "report")) {
      assertTrue(second.out().contains("step " + step + ": up to date, skipped"), step + ":\n" + second.out());
    }
    assertFalse(second.out().contains(": done in") && !second.out().contains("step gate: done"), second.out());
    assertEquals(written, modificationTimes(root), "a rerun of completed steps rewrote files");
    assertEquals(tableOf(first.out()), tableOf(second.out()));

    // The same outputs judged by a gate the model cannot pass: only report and gate run again.
    Path strict = config("strict.json", "{\"minAccuracy\": 0.99, \"minAgreement\": 0.5}");
    Run gated = pipeline("--config", strict.toString());
    assertEquals(PipelineCommand.EXIT_GATE_FAILED, gated.code(), gated.out() + gated.err());
    for (String step : List.of("train", "calibrate", "quantize", "evaluate")) {
      assertTrue(gated.out().contains("step " + step + ": up to date, skipped"), step + ":\n" + gated.out());
    }
    JsonNode summary = new ObjectMapper().readTree(root.resolve("report/summary.json").toFile());
    double accuracy = summary.at("/models/1/accuracy").asDouble();
    assertTrue(accuracy < 0.99, "the test needs a model below the threshold: " + accuracy);
    String line = String.format(java.util.Locale.ROOT, "Gate failed: int8 accuracy %.4f < minAccuracy 0.9900%n",
        accuracy);
    assertEquals(line, gated.err(), "one line, naming the condition and the figures");
    assertFalse(summary.at("/gate/passed").asBoolean());
  }

  @Test
  void invalidConfigIsRefusedBeforeSparkStarts() throws Exception {
    Path config = config("bad.json", "{\"minAccuracy\": 0.3}");
    Files.writeString(config, Files.readString(config).replace("[\"int8\"]", "[\"int8\", \"int4\"]"));
    // A master Spark cannot parse: had Spark started, this would fail with exit code 1 and Spark's message.
    Run run = pipeline("--config", config.toString(), "--master", "no-such-master://x");
    assertEquals(2, run.code(), run.out() + run.err());
    assertTrue(run.err().contains("config key 'quantize.modes[1]': value \"int4\" is not valid; valid: [\"float32\","
        + " \"float16\", \"dynamic\", \"int8\", \"int16x8\"]"), run.err());
    assertFalse(Files.exists(tmp.resolve("run")), "nothing written");

    Run missing = pipeline("--config", tmp.resolve("nope.json").toString(), "--master", "no-such-master://x");
    assertEquals(2, missing.code(), missing.err());
    assertTrue(missing.err().contains("nope.json cannot be read"), missing.err());
  }

  private static Map<Path, FileTime> modificationTimes(Path root) throws Exception {
    Map<Path, FileTime> times = new LinkedHashMap<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.sorted().toList()) {
        times.put(p, Files.getLastModifiedTime(p));
      }
    }
    return times;
  }

  private static String tableOf(String printed) {
    return printed.substring(printed.indexOf("On "), printed.indexOf("Model: "));
  }
}
