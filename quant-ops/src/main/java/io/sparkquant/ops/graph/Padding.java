package io.sparkquant.ops.graph;

/** TFLite's two padding schemes. SAME pads {@code total = max((out - 1) * stride + effectiveFilter - in, 0)}, top/left gets {@code total / 2}. */
public enum Padding {
  SAME,
  VALID;

  /** Output size along one spatial axis; {@code effectiveFilter = (filter - 1) * dilation + 1}. */
  public int outputSize(int in, int filter, int stride, int dilation) {
    int effectiveFilter = (filter - 1) * dilation + 1;
    return this == SAME ? (in + stride - 1) / stride : (in - effectiveFilter + stride) / stride;
  }

  /** Padding before the first element (top or left) along one axis. */
  public int padBefore(int in, int filter, int stride, int dilation) {
    if (this == VALID) {
      return 0;
    }
    int effectiveFilter = (filter - 1) * dilation + 1;
    int total = Math.max((outputSize(in, filter, stride, dilation) - 1) * stride + effectiveFilter - in, 0);
    return total / 2;
  }
}
