package io.sparkquant.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The demo end to end on a tiny setting (bundled subset, 300 training rows, 1 epoch, 200 calibration rows, QAT on
 * 300 rows, 200 test rows): every output exists, and the float/dynamic/int8/QAT int8 figures in metrics.json and on
 * the console are those of predictions.parquet.
 */
class DemoCommandTest {

  @TempDir Path tmp;

  @Test
  void demoTrainsCalibratesQuantizesAndEvaluatesSideBySide() throws Exception {
    SparkSession spark = SharedSpark.get(); // the demo reuses the test JVM's local[2] session
    Path out = tmp.resolve("demo");
    StringWriter stdout = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(stdout, true));
    int code = cli.execute("demo", "--data", TestDatasets.idxDir(), "--out", out.toString(),
        "--train-rows", "300", "--test-rows", "200", "--epochs", "1", "--partitions", "2",
        "--calibration-rows", "200", "--qat-rows", "300");
    String printed = stdout.toString();
    assertEquals(0, code, printed);

    for (String file : new String[] {"model/model.zip", "model/manifest.json", "calib/table.json",
        "calib/table.manifest.json", "quant/model-dynamic.tflite", "quant/model-dynamic.json",
        "quant/model-int8.tflite", "quant/model-int8.json", "eval/metrics.json", "eval/manifest.json",
        "eval/report.html", "eval/predictions.parquet", "data/train", "data/test", "qat/model-int8.tflite",
        "qat/manifest.json"}) {
      assertTrue(Files.exists(out.resolve(file)), file + " missing");
    }
    for (String file : new String[] {"model/model.zip", "calib/table.json", "quant/model-dynamic.tflite",
        "quant/model-int8.tflite", "eval/metrics.json", "eval/report.html", "eval/manifest.json"}) {
      assertTrue(printed.contains(out.resolve(file).toString()), file + " not printed:\n" + printed);
    }
    ObjectMapper json = new ObjectMapper();
    assertEquals(200, json.readTree(out.resolve("calib/table.manifest.json").toFile())
        .at("/calibration/rows").asLong());

    JsonNode metrics = json.readTree(out.resolve("eval/metrics.json").toFile());
    assertEquals(200, metrics.get("rows").asLong());
    JsonNode models = metrics.get("models");
    assertEquals(4, models.size(), metrics.toString());
    Dataset<Row> predictions = spark.read().parquet(out.resolve("eval/predictions.parquet").toString());
    assertEquals(200, predictions.count());
    String reference = models.get(0).get("predictionColumn").asText();
    String[] formats = {"dl4j", "tflite", "tflite", "tflite"};
    String[] files = {"model/model.zip", "quant/model-dynamic.tflite", "quant/model-int8.tflite",
        "qat/model-int8.tflite"};
    String[] labels = {"float", "dynamic", "int8", "qat-int8"}; // the pipeline's labels, not the file-derived keys
    for (int i = 0; i < files.length; i++) {
      JsonNode m = models.get(i);
      assertTrue(m.get("format").asText().toLowerCase(Locale.ROOT).contains(formats[i]), m.toString());
      String column = m.get("predictionColumn").asText();
      long correct = predictions.filter(functions.col(column).equalTo(functions.col("label"))).count();
      long agree = i == 0 ? 200 // the float model is the reference
          : predictions.filter(functions.col(column).equalTo(functions.col(reference))).count();
      assertEquals(correct / 200.0, m.at("/metrics/accuracy").asDouble(), 1e-12, m.toString());
      assertEquals(agree / 200.0, m.at("/agreementWithReference/top1").asDouble(), 1e-12, m.toString());
      assertEquals(Files.size(out.resolve(files[i])), m.get("sizeBytes").asLong());
      assertTrue(printed.contains(String.format(Locale.ROOT, "%-16s %7.4f %11d %20.4f", labels[i],
          correct / 200.0, m.get("sizeBytes").asLong(), agree / 200.0)), printed);
    }
    assertTrue(printed.contains("epoch 1:"), printed);
    assertTrue(printed.contains("qat epoch 1:") && printed.contains("int8 .tflite accuracy"), printed);
  }
}
