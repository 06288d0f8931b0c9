package io.sparkquant.jobs.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code evaluate} with several models (DL4J float, float32/dynamic/int8 .tflite) on the bundled Fashion-MNIST
 * test subset: metrics.json numbers are recomputed here from predictions.parquet, sizes from the files.
 */
class EvaluateSideBySideTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final int ROWS = 400;
  static final List<String> KEYS = List.of("cnn", "float32", "dynamic", "int8");

  @TempDir Path tmp;

  @Test
  void scoresEveryModelOnTheSameRowsInOnePass() throws Exception {
    QuantizedModels m = QuantizedModels.get();
    Path out = tmp.resolve("eval");
    int code = Main.execute("evaluate", "--model", m.dl4j.toString(), "--model", m.float32.toString(),
        "--model", m.dynamic.toString(), "--model", m.int8.toString(), "--data", TestDatasets.test(),
        "--out", out.toString(), "--batch-size", "100", "--limit", Long.toString(ROWS));
    assertEquals(0, code);
    JsonNode metrics = JSON.readTree(out.resolve("metrics.json").toFile());
    Dataset<Row> predictions = SharedSpark.get().read().parquet(out.resolve("predictions.parquet").toString())
        .cache();
    long rows = predictions.count();
    assertEquals(ROWS, rows);
    assertEquals("cnn", metrics.get("reference").asText());
    JsonNode models = metrics.get("models");
    assertEquals(KEYS.size(), models.size());
    List<Path> files = List.of(m.dl4j, m.float32, m.dynamic, m.int8);
    for (int k = 0; k < KEYS.size(); k++) {
      JsonNode model = models.get(k);
      String key = KEYS.get(k);
      assertEquals(key, model.get("key").asText());
      assertEquals(Files.size(files.get(k)), model.get("sizeBytes").asLong());
      String pred = "prediction_" + key;
      assertEquals(pred, model.get("predictionColumn").asText());
      long correct = predictions.filter(predictions.col(pred).equalTo(predictions.col("label"))).count();
      assertEquals(correct / (double) rows, model.get("metrics").get("accuracy").asDouble(), 1e-12, key);
      long same = predictions.filter(predictions.col(pred).equalTo(predictions.col("prediction_cnn"))).count();
      assertEquals(same / (double) rows, model.get("agreementWithReference").get("top1").asDouble(), 1e-12, key);
      assertEquals(ROWS, model.get("metrics").get("rows").asLong());
      assertEquals(10, model.get("metrics").get("perClass").size());
    }
    assertEquals(models.get(0).get("metrics").get("accuracy").asDouble(), metrics.get("accuracy").asDouble());
    assertTrue(metrics.get("accuracy").asDouble() > 0.6, "the model did not learn: " + metrics);
    // Quantized models stay close to the reference on this data.
    for (int k = 1; k < KEYS.size(); k++) {
      JsonNode a = models.get(k).get("agreementWithReference");
      assertTrue(a.get("top1").asDouble() > 0.95, KEYS.get(k) + " " + a);
      assertTrue(a.get("meanAbsProbDelta").asDouble() < 0.02, KEYS.get(k) + " " + a);
    }
    assertTrue(models.get(3).get("sizeBytes").asLong() < models.get(1).get("sizeBytes").asLong() / 3,
        "int8 file is not much smaller than float32");
    String html = Files.readString(out.resolve("report.html"), StandardCharsets.UTF_8);
    assertTrue(html.contains("<svg") && html.contains("Accuracy per model") && html.contains("F1 per class"));
    for (String key : KEYS) {
      assertTrue(html.contains(key), key);
    }
    assertTrue(Files.isRegularFile(out.resolve("manifest.json")));
    try (Stream<Path> s = Files.list(tmp)) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".")), "temporary output left behind");
    }
  }

  @Test
  void singleModelKeepsItsSchemaAndRunsOnTheTfliteRuntime() throws Exception {
    QuantizedModels m = QuantizedModels.get();
    Path out = tmp.resolve("single");
    assertEquals(0, Main.execute("evaluate", "--model", m.int8.toString(), "--data", TestDatasets.test(),
        "--out", out.toString(), "--runtime", "tflite", "--limit", "300"));
    Dataset<Row> predictions = SharedSpark.get().read().parquet(out.resolve("predictions.parquet").toString());
    assertEquals(List.of("id", "label", "prediction", "probability"), List.of(predictions.columns()));
    JsonNode metrics = JSON.readTree(out.resolve("metrics.json").toFile());
    assertEquals(300, metrics.get("rows").asLong());
    assertEquals("tflite", metrics.get("models").get(0).get("format").asText());
    assertEquals("tflite", metrics.get("models").get(0).get("runtime").asText());
  }
}
