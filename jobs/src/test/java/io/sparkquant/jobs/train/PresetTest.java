package io.sparkquant.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The micro preset: its size, and the path train -> int8 .tflite (per-channel and per-tensor weights) -> scores. */
class PresetTest {

  @TempDir Path tmp;

  @Test
  void microIsMicrocontrollerSizeAndDepthwiseSeparable() {
    DatasetInfo info = new DatasetInfo(new int[] {28, 28, 1}, FashionMnist.CLASS_NAMES);
    MultiLayerNetwork net = new MultiLayerNetwork(Preset.MICRO.configuration(info, 1, 0.002, 0.7));
    net.init();
    // conv 16*9+16, three blocks (depthwise C*9+C, pointwise), 7 BNs (4 per channel), dense 128*10+10.
    assertEquals(14_954, net.numParams());
    long depthwise = net.getLayerWiseConfigurations().getConfs().stream()
        .filter(c -> c.getLayer() instanceof DepthwiseConvolution2D).count();
    assertEquals(3, depthwise);
    assertEquals(Preset.MICRO, Preset.fromCliName("micro"));
    assertThrows(IllegalArgumentException.class, () -> Preset.MICRO.configuration(
        new DatasetInfo(new int[] {784}, FashionMnist.CLASS_NAMES), 1, 0.002, 0.7));
  }

  @Test
  void microTrainsAndExportsToInt8WithEitherWeightScales() throws Exception {
    Path model = tmp.resolve("model");
    assertEquals(0, Main.execute("train", "--data", TestDatasets.train(), "--out", model.toString(),
        "--preset", "micro", "--epochs", "3", "--limit", "2000", "--batch-size", "32", "--learning-rate", "0.005",
        "--partitions", "2"));
    String zip = model.resolve(TrainJob.MODEL_FILE).toString();
    Path table = tmp.resolve("table.json");
    assertEquals(0, Main.execute("calibrate", "--model", zip, "--data", TestDatasets.train(),
        "--out", table.toString(), "--rows", "200"));

    ObjectMapper json = new ObjectMapper();
    Map<String, Path> exports = new HashMap<>();
    for (String scales : new String[] {"per-channel", "per-tensor"}) {
      Path out = tmp.resolve("micro-" + scales + ".tflite");
      String[] args = {"quantize", "--model", zip, "--mode", "int8", "--io", "int8", "--calibration",
          table.toString(), "--out", out.toString()};
      if (scales.equals("per-tensor")) {
        args = Arrays.copyOf(args, args.length + 1);
        args[args.length - 1] = "--per-tensor-weights";
      }
      assertEquals(0, Main.execute(args));
      JsonNode card = json.readTree(tmp.resolve("micro-" + scales + ".json").toFile());
      assertEquals(scales, card.get("convWeightScales").asText());
      Map<String, Integer> ops = new HashMap<>();
      card.get("ops").forEach(o -> ops.put(o.get("op").asText() + "/" + o.get("version").asInt(),
          o.get("count").asInt()));
      assertEquals(4, ops.get("CONV_2D/3"), ops.toString());
      assertEquals(3, ops.get("DEPTHWISE_CONV_2D/3"), ops.toString());
      assertEquals(1, ops.get("MEAN/2"), ops.toString());
      exports.put(scales, out);
    }

    Path eval = tmp.resolve("eval");
    assertEquals(0, Main.execute("evaluate", "--model", zip, "--model", exports.get("per-channel").toString(),
        "--model", exports.get("per-tensor").toString(), "--data", TestDatasets.test(), "--limit", "300",
        "--out", eval.toString()));
    JsonNode models = json.readTree(eval.resolve("metrics.json").toFile()).get("models");
    assertEquals(3, models.size());
    // Three short epochs on 2,000 rows put the float model well above chance (0.1; measured 0.75); the int8
    // exports follow it.
    assertTrue(models.get(0).at("/metrics/accuracy").asDouble() > 0.5, models.get(0).toString());
    for (int i = 1; i < 3; i++) {
      assertTrue(models.get(i).at("/metrics/accuracy").asDouble() > 0.5, models.get(i).toString());
      assertTrue(models.get(i).at("/agreementWithReference/top1").asDouble() > 0.9, models.get(i).toString());
    }
  }
}
