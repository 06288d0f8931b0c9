package io.sparkquant.ops.graph;

/**
 * Where a graph tensor's float value can be observed in the DL4J model it was imported from.
 * <ul>
 *   <li>{@link Kind#NETWORK_INPUT}: the network input ({@code feedForward} index 0 for a MultiLayerNetwork, the
 *       input name for a ComputationGraph);</li>
 *   <li>{@link Kind#ACTIVATION}: the activation of MultiLayerNetwork layer {@code layerIndex}
 *       ({@code feedForward} index {@code layerIndex + 1}) or of ComputationGraph vertex {@code vertexName};</li>
 *   <li>{@link Kind#DERIVED}: not a DL4J activation (a pre-activation before tanh/sigmoid/softmax, the depthwise
 *       stage of a separable convolution, a flatten): {@link Dl4jActivations} computes it from the producing node's
 *       inputs with {@link FloatReference}.</li>
 * </ul>
 */
public record Dl4jSource(Kind kind, int layerIndex, String vertexName) implements java.io.Serializable {

  public enum Kind { NETWORK_INPUT, ACTIVATION, DERIVED }

  public static Dl4jSource networkInput(String inputName) {
    return new Dl4jSource(Kind.NETWORK_INPUT, -1, inputName);
  }

  public static Dl4jSource mlnLayer(int layerIndex) {
    return new Dl4jSource(Kind.ACTIVATION, layerIndex, null);
  }

  public static Dl4jSource cgVertex(String vertexName) {
    return new Dl4jSource(Kind.ACTIVATION, -1, vertexName);
  }

  public static Dl4jSource derived() {
    return new Dl4jSource(Kind.DERIVED, -1, null);
  }

  @Override
  public String toString() {
    return switch (kind) {
      case NETWORK_INPUT -> "input";
      case ACTIVATION -> vertexName != null ? "vertex '" + vertexName + "'" : "layer " + layerIndex;
      case DERIVED -> "derived";
    };
  }
}
