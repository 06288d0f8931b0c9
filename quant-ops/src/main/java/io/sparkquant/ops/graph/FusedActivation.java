package io.sparkquant.ops.graph;

/** Activations TFLite fuses into CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and ADD (they only narrow the output clamp). */
public enum FusedActivation {
  NONE,
  RELU,
  RELU6;

  public float apply(float x) {
    return switch (this) {
      case NONE -> x;
      case RELU -> Math.max(x, 0f);
      case RELU6 -> Math.min(Math.max(x, 0f), 6f);
    };
  }
}
