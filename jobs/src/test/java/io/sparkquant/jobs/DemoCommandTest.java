package io.sparkquant.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.testing.SharedSpark;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The demo end to end on a tiny setting (bundled subset, 300 training rows, 1 epoch). */
class DemoCommandTest {

  @TempDir Path tmp;

  @Test
  void demoWritesDataModelMetricsAndManifests() throws Exception {
    SharedSpark.get(); // the demo reuses the test JVM's local[2] session
    Path out = tmp.resolve("demo");
    StringWriter stdout = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(stdout, true));
    int code = cli.execute("demo", "--data", TestDatasets.idxDir(), "--out", out.toString(),
        "--train-rows", "300", "--test-rows", "200", "--epochs", "1", "--partitions", "2");
    assertEquals(0, code, stdout.toString());

    for (String file : new String[] {"model/model.zip", "model/manifest.json", "eval/metrics.json",
        "eval/manifest.json", "eval/predictions.parquet", "data/train", "data/test"}) {
      assertTrue(Files.exists(out.resolve(file)), file + " missing");
    }
    JsonNode metrics = new ObjectMapper().readTree(out.resolve("eval/metrics.json").toFile());
    assertEquals(200, metrics.get("rows").asLong());
    String printed = stdout.toString();
    assertTrue(printed.contains("epoch 1:"), printed);
    assertTrue(printed.contains(String.format(java.util.Locale.ROOT, "Accuracy %.4f",
        metrics.get("accuracy").asDouble())), printed);
    assertTrue(printed.contains(out.resolve("eval").resolve("metrics.json").toString()), printed);
  }
}
