package io.sparkquant.data;

/** Memory layout of a feature batch built from rows stored in HWC order. */
public enum Layout {
  /** {@code [n, C, H, W]}: DL4J convolution input; the shape must have rank 3 (H, W, C). */
  NCHW,
  /** {@code [n, H, W, C]}: TFLite and the quant-ops graph IR; the shape must have rank 3. */
  NHWC,
  /** {@code [n, H*W*C]} in stored (HWC) order: dense networks; any shape rank. */
  FLAT
}
