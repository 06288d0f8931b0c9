package io.sparkquant.jobs.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.ops.graph.Node;
import io.sparkquant.ops.tflite.TfliteRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code quantize --keep-float N} for N = 0, 1, 2 on the trained Fashion-MNIST CNN: the N layers ranked most
 * sensitive are exported in float (model card), files grow with N, every model runs in TFLite 2.6.2, and
 * {@code evaluate} compares them side by side with the float32 export (figures logged for the report).
 */
class KeepFloatTradeOffTest {

  private static final Logger LOG = LoggerFactory.getLogger(KeepFloatTradeOffTest.class);
  static final ObjectMapper JSON = new ObjectMapper();
  static final int CALIBRATION_ROWS = 200;
  static final int EVAL_ROWS = 400;

  @TempDir Path tmp;

  @Test
  void keepingSensitiveLayersInFloatTradesSizeForError() throws Exception {
    QuantizedModels m = QuantizedModels.get();
    List<Path> models = new ArrayList<>();
    List<String> ranking = null;
    for (int n = 0; n <= 2; n++) {
      Path out = tmp.resolve("int8_keep" + n + ".tflite");
      assertEquals(0, Main.execute("quantize", "--model", m.dl4j.toString(), "--mode", "int8",
          "--calibration-data", TestDatasets.train(), "--calibration-rows", Integer.toString(CALIBRATION_ROWS),
          "--keep-float", Integer.toString(n), "--out", out.toString()));
      JsonNode card = JSON.readTree(tmp.resolve("int8_keep" + n + ".json").toFile());
      assertEquals(n, card.get("floatNodes").size(), card.toString());
      if (n > 0) {
        List<String> order = new ArrayList<>();
        card.get("layerSensitivity").forEach(r -> order.add(r.get("node").asText()));
        assertEquals(m.graph.nodes().stream().filter(x -> x instanceof Node.Conv2D
            || x instanceof Node.FullyConnected).count(), order.size(), "every weight layer is ranked: " + order);
        if (ranking != null) {
          assertEquals(ranking, order, "the ranking does not depend on N");
        }
        ranking = order;
        List<String> kept = new ArrayList<>();
        card.get("floatNodes").forEach(x -> kept.add(x.asText()));
        assertEquals(List.copyOf(new java.util.TreeSet<>(order.subList(0, n))), kept, "the top-" + n + " layers");
      }
      byte[] bytes = Files.readAllBytes(out);
      try (TfliteRuntime rt = TfliteRuntime.create(bytes, 1)) {
        assertEquals(10, ((float[]) rt.run((Object) new float[784])[0]).length);
      }
      if (!models.isEmpty()) {
        assertTrue(Files.size(out) > Files.size(models.get(models.size() - 1)), "a float layer makes the file larger");
      }
      models.add(out);
    }
    Path eval = tmp.resolve("eval");
    List<String> args = new ArrayList<>(List.of("evaluate", "--model", m.float32.toString()));
    for (Path p : models) {
      args.add("--model");
      args.add(p.toString());
    }
    args.addAll(List.of("--data", TestDatasets.test(), "--limit", Integer.toString(EVAL_ROWS), "--out",
        eval.toString()));
    assertEquals(0, Main.execute(args.toArray(new String[0])));
    JsonNode metrics = JSON.readTree(eval.resolve("metrics.json").toFile());
    for (JsonNode model : metrics.get("models")) {
      LOG.warn("keep-float trade-off: {} size {} bytes accuracy {} top-1 agreement {} mean |dp| {}",
          model.get("key").asText(), model.get("sizeBytes").asLong(), model.at("/metrics/accuracy").asDouble(),
          model.at("/agreementWithReference/top1").asDouble(),
          model.at("/agreementWithReference/meanAbsProbDelta").asDouble());
      assertTrue(model.at("/agreementWithReference/top1").asDouble() > 0.95, model.toString());
    }
  }
}
