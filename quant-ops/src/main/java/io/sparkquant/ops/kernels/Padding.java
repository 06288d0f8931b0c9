package io.sparkquant.ops.kernels;

/**
 * TFLite's two padding schemes (schema.fbs Padding: the codes are the ordinals) with kernels/padding.h's
 * formulas; the graph, the exporter, the float reference and the kernels all use these.
 */
public enum Padding {
  SAME,
  VALID;

  /**
   * ComputeOutSize along one spatial axis: SAME gives ceil(in / stride), VALID gives
   * ceil((in - effectiveFilter + 1) / stride), with {@code effectiveFilter = (filter - 1) * dilation + 1}.
   * Not positive when a VALID (dilated) filter does not fit in the input.
   */
  public int outputSize(int in, int filter, int stride, int dilation) {
    int effectiveFilter = (filter - 1) * dilation + 1;
    return switch (this) {
      case SAME -> (in + stride - 1) / stride;
      case VALID -> (in + stride - effectiveFilter) / stride;
    };
  }

  /**
   * ComputePadding: the padding before the first element (top or left) along one axis,
   * {@code max(((out - 1) * stride + effectiveFilter - in) / 2, 0)}; 0 for VALID.
   */
  public int padBefore(int in, int filter, int stride, int dilation) {
    int effectiveFilter = (filter - 1) * dilation + 1;
    int out = outputSize(in, filter, stride, dilation);
    return Math.max(((out - 1) * stride + effectiveFilter - in) / 2, 0);
  }
}
