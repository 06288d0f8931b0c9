package io.sparkquant.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.graph.ModelMetadata;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --preset mlp} records the item shape [28, 28, 1]; its dense first layer must still get rows of 784
 * values: train -> calibrate -> quantize (from the table and from calibration data) -> evaluate. Before the
 * importer treated a feed-forward first layer as feed-forward whatever the recorded shape, calibrate failed with
 * DL4J's "Input that is not a matrix".
 */
class MlpPresetTest {

  @TempDir Path tmp;

  @Test
  void mlpPresetGoesThroughTrainCalibrateQuantizeEvaluate() throws Exception {
    String zip = TinyModels.model(1);
    assertArrayEquals(new int[] {28, 28, 1},
        ModelMetadata.read(Files.readAllBytes(Path.of(zip))).orElseThrow().inputShape());
    CalibrationTable table = CalibrationTable.fromJson(Files.readString(Path.of(TinyModels.table(1)),
        StandardCharsets.UTF_8));
    assertNotNull(table.modelFingerprint());

    Path fromTable = tmp.resolve("from-table.tflite");
    assertEquals(0, Main.execute("quantize", "--model", zip, "--mode", "int8", "--calibration",
        TinyModels.table(1), "--out", fromTable.toString()));
    Path fromData = tmp.resolve("from-data.tflite");
    assertEquals(0, Main.execute("quantize", "--model", zip, "--mode", "int8", "--calibration-data",
        TestDatasets.train(), "--calibration-rows", "200", "--out", fromData.toString()));

    Path eval = tmp.resolve("eval");
    assertEquals(0, Main.execute("evaluate", "--model", zip, "--model", fromTable.toString(), "--model",
        fromData.toString(), "--data", TestDatasets.test(), "--limit", "200", "--out", eval.toString()));
    JsonNode models = new ObjectMapper().readTree(eval.resolve("metrics.json").toFile()).get("models");
    assertEquals(3, models.size(), models.toString());
    // One epoch on 300 rows is far above chance (0.1); the int8 models follow the float one they came from.
    assertTrue(models.get(0).at("/metrics/accuracy").asDouble() > 0.3, models.toString());
    for (int i = 1; i < 3; i++) {
      assertTrue(models.get(i).at("/agreementWithReference/top1").asDouble() > 0.9, models.get(i).toString());
    }
  }
}
