package io.sparkquant.ops.tflite;

import java.util.List;
import java.util.Map;

/**
 * An in-memory TFLite model with one subgraph: what the writer serializes, the reader returns, the
 * exporter builds and the interpreter runs. {@code metadata} maps Model.metadata names to buffer bytes.
 */
public record TfliteModel(String description, List<TfliteTensor> tensors, List<TfliteOperator> operators,
    int[] inputs, int[] outputs, Map<String, byte[]> metadata) {

  /** The schema version TFLite requires (Model.version). */
  public static final int SCHEMA_VERSION = 3;

  public TfliteTensor tensor(int index) {
    return tensors.get(index);
  }
}
