package io.sparkquant.ops.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model card written next to an exported .tflite: mode, sizes, operators with versions, minimum runtime
 * version, I/O tensors with their quantization, and the provenance stored in the model.
 */
public final class ModelCard {

  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelCard() {}

  /** A JSON-ready map; {@code extra} entries (e.g. created time, paths) are appended as given. */
  public static Map<String, Object> describe(TfliteModel model, long fileSizeBytes, Map<String, Object> extra) {
    Map<String, Object> card = new LinkedHashMap<>();
    card.put("format", 1);
    Map<String, Object> provenance = provenance(model);
    card.put("mode", provenance.get("mode"));
    card.put("io", provenance.get("io"));
    card.put("fileSizeBytes", fileSizeBytes);
    long constantBytes = 0;
    for (TfliteTensor t : model.tensors()) {
      constantBytes += t.isConstant() ? t.data().length : 0;
    }
    card.put("constantBytes", constantBytes);
    card.put("minRuntimeVersion", TfliteExporter.minRuntimeVersion(model));
    Map<String, Map<String, Object>> ops = new LinkedHashMap<>();
    for (TfliteOperator o : model.operators()) {
      String key = o.opName() + "/" + o.version();
      Map<String, Object> e = ops.computeIfAbsent(key, k -> {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", o.opName());
        m.put("version", o.version());
        m.put("count", 0);
        return m;
      });
      e.put("count", (Integer) e.get("count") + 1);
    }
    card.put("ops", new ArrayList<>(ops.values()));
    card.put("inputs", io(model, model.inputs()));
    card.put("outputs", io(model, model.outputs()));
    card.put("provenance", provenance);
    card.putAll(extra);
    return card;
  }

  public static byte[] toJson(Map<String, Object> card) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(card);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write model card JSON", e);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> provenance(TfliteModel model) {
    byte[] p = model.metadata().get(TfliteExporter.PROVENANCE_METADATA);
    if (p == null) {
      return new LinkedHashMap<>();
    }
    try {
      return JSON.readValue(p, LinkedHashMap.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("model metadata '" + TfliteExporter.PROVENANCE_METADATA
          + "' is not valid JSON", e);
    }
  }

  private static List<Map<String, Object>> io(TfliteModel model, int[] indices) {
    List<Map<String, Object>> list = new ArrayList<>();
    for (int i : indices) {
      TfliteTensor t = model.tensor(i);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", t.name());
      m.put("type", t.type().name());
      m.put("shape", Arrays.stream(t.shape()).boxed().toList());
      if (t.quantization() != null) {
        m.put("scale", t.quantization().scale()[0]);
        m.put("zeroPoint", t.quantization().zeroPoint()[0]);
      }
      list.add(m);
    }
    return list;
  }
}
