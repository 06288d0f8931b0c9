package io.sparkquant.jobs.qat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qat --validation --per-tensor-weights --io int8}: every epoch reports the simulated and the int8 accuracy on
 * the validation rows, and the export follows the simulation's options (one weight scale per tensor, int8 I/O).
 */
class QatOptionsTest {

  @TempDir Path tmp;

  @Test
  void validationPerTensorWeightsAndInt8Io() throws Exception {
    String model = QatFixtures.cnnModel();
    TensorDataset test = TensorDatasets.load(SharedSpark.get(), TestDatasets.test());
    Path validation = tmp.resolve("validation");
    TensorDatasets.write(test.rows().orderBy(TensorDatasets.ID).limit(200), test.info(), validation.toString(), null);
    Path table = tmp.resolve("table.json");
    assertEquals(0, Main.execute("calibrate", "--model", model, "--data", TestDatasets.train(), "--out",
        table.toString(), "--rows", "100"));
    Path out = tmp.resolve("qat");
    assertEquals(0, Main.execute("qat", "--model", model, "--data", TestDatasets.train(), "--fraction", "0.03",
        "--calibration", table.toString(), "--validation", validation.toString(), "--epochs", "2",
        "--partitions", "2", "--learning-rate", "0.001", "--per-tensor-weights", "--io", "int8",
        "--out", out.toString()));

    JsonNode epochs = new ObjectMapper().readTree(out.resolve(Manifest.FILE_NAME).toFile()).get("epochs");
    assertEquals(2, epochs.size(), epochs.toString());
    for (JsonNode e : epochs) {
      assertEquals("validation", e.get("int8Rows").asText());
      double simulated = e.at("/training/validationAccuracy").asDouble();
      double int8 = e.get("int8Accuracy").asDouble();
      assertTrue(simulated > 0.2 && int8 > 0.2, "above chance (0.1) on validation: " + e);
      // the simulation is what ships: on 200 rows, at most a few disagree
      assertTrue(Math.abs(simulated - int8) <= 0.03, "simulated vs int8 on validation: " + e);
    }

    TfliteModel tflite = TfliteReader.read(Files.readAllBytes(out.resolve(QatJob.TFLITE_FILE)));
    assertEquals(TensorType.INT8, tflite.tensor(tflite.inputs()[0]).type(), "--io int8");
    assertEquals(TensorType.INT8, tflite.tensor(tflite.outputs()[0]).type(), "--io int8");
    int weights = 0;
    for (TfliteTensor t : tflite.tensors()) {
      if (t.isConstant() && t.type() == TensorType.INT8) {
        weights++;
        assertFalse(t.quantization().isPerChannel(), "--per-tensor-weights: " + t.name());
      }
    }
    assertTrue(weights >= 3, "int8 weight tensors: " + weights);
  }
}
