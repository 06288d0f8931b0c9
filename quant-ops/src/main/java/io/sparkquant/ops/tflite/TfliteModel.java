package io.sparkquant.ops.tflite;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An in-memory TFLite model with one subgraph: what the writer serializes, the reader returns, the
 * exporter builds and the interpreter runs. {@code metadata} maps Model.metadata names to buffer bytes.
 */
public record TfliteModel(String description, List<TfliteTensor> tensors, List<TfliteOperator> operators,
    int[] inputs, int[] outputs, Map<String, byte[]> metadata) {

  /** The schema version TFLite requires (Model.version). */
  public static final int SCHEMA_VERSION = 3;

  public TfliteModel {
    Objects.requireNonNull(tensors, "tensors");
    Objects.requireNonNull(operators, "operators");
    Objects.requireNonNull(inputs, "inputs");
    Objects.requireNonNull(outputs, "outputs");
    metadata = metadata == null ? Map.of() : metadata;
  }

  public TfliteTensor tensor(int index) {
    return tensors.get(index);
  }

  /** Index of the tensor with this name; throws naming the available ones if absent. */
  public int tensorIndex(String name) {
    for (int i = 0; i < tensors.size(); i++) {
      if (Objects.equals(tensors.get(i).name(), name)) {
        return i;
      }
    }
    throw new IllegalArgumentException("No tensor named '" + name + "'; tensors: "
        + tensors.stream().map(TfliteTensor::name).toList());
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds a model tensor by tensor; {@link #addTensor} returns the new tensor's index. */
  public static final class Builder {
    private String description;
    private final List<TfliteTensor> tensors = new ArrayList<>();
    private final List<TfliteOperator> operators = new ArrayList<>();
    private int[] inputs = new int[0];
    private int[] outputs = new int[0];
    private final Map<String, byte[]> metadata = new LinkedHashMap<>();

    private Builder() {}

    public Builder description(String description) {
      this.description = description;
      return this;
    }

    public int addTensor(TfliteTensor tensor) {
      tensors.add(Objects.requireNonNull(tensor, "tensor"));
      return tensors.size() - 1;
    }

    public Builder addOperator(TfliteOperator operator) {
      operators.add(Objects.requireNonNull(operator, "operator"));
      return this;
    }

    public Builder inputs(int... inputs) {
      this.inputs = inputs.clone();
      return this;
    }

    public Builder outputs(int... outputs) {
      this.outputs = outputs.clone();
      return this;
    }

    public Builder metadata(String name, byte[] value) {
      metadata.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value").clone());
      return this;
    }

    public TfliteModel build() {
      return new TfliteModel(description, List.copyOf(tensors), List.copyOf(operators), inputs.clone(),
          outputs.clone(), new LinkedHashMap<>(metadata));
    }
  }
}
