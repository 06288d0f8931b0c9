package io.sparkquant.ops.tflite;

/** The builtin options of the operators in {@link BuiltinOp}, mirroring schema.fbs tables. */
public sealed interface OperatorOptions {

  enum Padding { SAME, VALID }

  /** Schema codes are the ordinals. */
  enum Activation { NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT }

  record Conv2D(Padding padding, int strideW, int strideH, Activation fusedActivation, int dilationW, int dilationH)
      implements OperatorOptions {}

  record DepthwiseConv2D(Padding padding, int strideW, int strideH, int depthMultiplier, Activation fusedActivation,
      int dilationW, int dilationH) implements OperatorOptions {}

  record FullyConnected(Activation fusedActivation, boolean keepNumDims, boolean asymmetricQuantizeInputs)
      implements OperatorOptions {}

  record Pool2D(Padding padding, int strideW, int strideH, int filterWidth, int filterHeight,
      Activation fusedActivation) implements OperatorOptions {}

  record Add(Activation fusedActivation) implements OperatorOptions {}

  record Reshape(int[] newShape) implements OperatorOptions {}

  record Softmax(float beta) implements OperatorOptions {}

  /** MEAN's options (ReducerOptions in the schema). */
  record Reducer(boolean keepDims) implements OperatorOptions {}
}
