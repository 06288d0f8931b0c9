package io.sparkquant.ops.graph;

/**
 * How the DL4J model expects its input batch, compared with the graph's NHWC input.
 * <ul>
 *   <li>{@link #NCHW}: {@code [N, C, H, W]} (InputType.convolutional);</li>
 *   <li>{@link #FLAT_CHW}: {@code [N, C*H*W]} flattened in C, H, W order (InputType.convolutionalFlat);</li>
 *   <li>{@link #FEED_FORWARD}: {@code [N, F]} for a graph whose input is {@code [1, F]}.</li>
 * </ul>
 * For C == 1, FLAT_CHW is also the row-major HWC order, which is how the Parquet features are stored.
 */
public enum Dl4jInputLayout { NCHW, FLAT_CHW, FEED_FORWARD }
