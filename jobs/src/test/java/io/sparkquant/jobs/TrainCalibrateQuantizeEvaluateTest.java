package io.sparkquant.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.jobs.train.TrainJob;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.graph.ModelMetadata;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new user's path through the CLI with no {@code --input-shape} anywhere: {@code train} (cnn, whose
 * configuration records no input height and width) -> {@code calibrate} -> {@code quantize --calibration} ->
 * {@code evaluate}. The shape and class names travel in the model zip, the shape also in the calibration table.
 */
class TrainCalibrateQuantizeEvaluateTest {

  @TempDir Path tmp;

  @Test
  void int8ModelFromTrainedModelAndTableScoresWithoutInputShape() throws Exception {
    Path model = tmp.resolve("model");
    assertEquals(0, Main.execute("train", "--data", TestDatasets.train(), "--out", model.toString(),
        "--preset", "cnn", "--epochs", "1", "--limit", "300", "--partitions", "2"));
    Path zip = model.resolve(TrainJob.MODEL_FILE);
    ModelMetadata recorded = ModelMetadata.read(Files.readAllBytes(zip)).orElseThrow();
    assertArrayEquals(new int[] {28, 28, 1}, recorded.inputShape());
    assertEquals(FashionMnist.CLASS_NAMES, recorded.classNames());

    Path table = tmp.resolve("table.json");
    assertEquals(0, Main.execute("calibrate", "--model", zip.toString(), "--data", TestDatasets.train(),
        "--out", table.toString(), "--rows", "200"));
    assertArrayEquals(new int[] {28, 28, 1},
        CalibrationTable.fromJson(Files.readString(table, StandardCharsets.UTF_8)).inputShape());

    Path int8 = tmp.resolve("model-int8.tflite");
    assertEquals(0, Main.execute("quantize", "--model", zip.toString(), "--mode", "int8", "--calibration",
        table.toString(), "--out", int8.toString()));
    JsonNode card = new ObjectMapper().readTree(tmp.resolve("model-int8.json").toFile());
    assertEquals("int8", card.get("mode").asText());
    assertEquals("[28,28,1]", card.get("inputShape").toString());
    assertEquals(FashionMnist.CLASS_NAMES.size(), card.get("classNames").size());

    Path eval = tmp.resolve("eval");
    assertEquals(0, Main.execute("evaluate", "--model", zip.toString(), "--model", int8.toString(), "--data",
        TestDatasets.test(), "--limit", "200", "--out", eval.toString()));
    JsonNode models = new ObjectMapper().readTree(eval.resolve("metrics.json").toFile()).get("models");
    assertEquals(2, models.size(), models.toString());
    JsonNode quantized = models.get(1);
    // One epoch on 300 rows is far above chance (0.1); the int8 model must follow the float one it came from.
    assertTrue(quantized.at("/metrics/accuracy").asDouble() > 0.3, quantized.toString());
    assertTrue(quantized.at("/agreementWithReference/top1").asDouble() > 0.9, quantized.toString());
  }
}
