package io.sparkquant.ops.tflite;

import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;

/**
 * The builtin options of the operators in {@link BuiltinOp}, mirroring schema.fbs tables; named after
 * TFLite's parsed forms in builtin_op_data.h ({@code TfLiteConvParams}, ...) so they read apart from the
 * generated {@code schema.Conv2DOptions} tables, the kernels and the graph nodes.
 */
public sealed interface OperatorOptions {

  record ConvParams(Padding padding, int strideW, int strideH, FusedActivation fusedActivation, int dilationW, int dilationH)
      implements OperatorOptions {}

  record DepthwiseConvParams(Padding padding, int strideW, int strideH, int depthMultiplier, FusedActivation fusedActivation,
      int dilationW, int dilationH) implements OperatorOptions {}

  record FullyConnectedParams(FusedActivation fusedActivation, boolean keepNumDims, boolean asymmetricQuantizeInputs)
      implements OperatorOptions {}

  record PoolParams(Padding padding, int strideW, int strideH, int filterWidth, int filterHeight,
      FusedActivation fusedActivation) implements OperatorOptions {}

  record AddParams(FusedActivation fusedActivation) implements OperatorOptions {}

  /** Array contents in equals, hashCode and toString (inspect prints the options). */
  record ReshapeParams(int[] newShape) implements OperatorOptions {
    @Override
    public boolean equals(Object o) {
      return o instanceof ReshapeParams r && java.util.Arrays.equals(newShape, r.newShape);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(newShape);
    }

    @Override
    public String toString() {
      return "ReshapeParams[newShape=" + java.util.Arrays.toString(newShape) + "]";
    }
  }

  record SoftmaxParams(float beta) implements OperatorOptions {}

  /** MEAN's options (ReducerOptions in the schema). */
  record ReducerParams(boolean keepDims) implements OperatorOptions {}

  /** SUB's options; {@code potScaleInt16} (schema default true) selects TFLite's power-of-two int16 path. */
  record SubParams(FusedActivation fusedActivation, boolean potScaleInt16) implements OperatorOptions {}

  record MulParams(FusedActivation fusedActivation) implements OperatorOptions {}

  /** Bit {@code i} of a mask refers to axis {@code i}; {@code offset} is a newer schema field TFLite 2.6.2 lacks. */
  record StridedSliceParams(int beginMask, int endMask, int ellipsisMask, int newAxisMask, int shrinkAxisMask,
      boolean offset) implements OperatorOptions {}

  /** {@code fusedActivation} is a newer schema field that TFLite 2.6.2 does not read. */
  record TransposeConvParams(Padding padding, int strideW, int strideH, FusedActivation fusedActivation)
      implements OperatorOptions {}

  /** CONCATENATION along {@code axis} (negative counts from the end); TFLite 2.6.2 runs only activation NONE. */
  record ConcatenationParams(int axis, FusedActivation fusedActivation) implements OperatorOptions {}

  /** LEAKY_RELU: {@code x >= 0 ? x : alpha * x}. */
  record LeakyReluParams(float alpha) implements OperatorOptions {}

  /** RESIZE_NEAREST_NEIGHBOR's options (ResizeNearestNeighborOptions in the schema). */
  record ResizeNearestNeighborParams(boolean alignCorners, boolean halfPixelCenters) implements OperatorOptions {}
}
