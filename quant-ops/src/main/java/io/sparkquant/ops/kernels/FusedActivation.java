package io.sparkquant.ops.kernels;

/**
 * The activations TFLite fuses into an operator (schema.fbs ActivationFunctionType: the codes are the
 * ordinals). The graph fuses NONE, RELU and RELU6 into CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and ADD;
 * they only narrow the output clamp ({@link KernelUtil#activationRangeQuantized}).
 */
public enum FusedActivation {
  NONE,
  RELU,
  RELU_N1_TO_1,
  RELU6,
  TANH,
  SIGN_BIT;

  /** The float activation, for the float reference. */
  public float apply(float x) {
    return switch (this) {
      case NONE -> x;
      case RELU -> Math.max(x, 0f);
      case RELU_N1_TO_1 -> Math.min(Math.max(x, -1f), 1f);
      case RELU6 -> Math.min(Math.max(x, 0f), 6f);
      case TANH, SIGN_BIT -> throw new UnsupportedOperationException("fused activation " + this
          + " is not supported; supported: NONE, RELU, RELU_N1_TO_1, RELU6");
    };
  }
}
