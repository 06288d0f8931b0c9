package io.sparkquant.ops.calib;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;

/**
 * Histogram bin edges, fixed before the histogram pass from the global min/max of pass 1.
 *
 * <p>Bins have one width {@code binWidth} and zero is always an edge: edge {@code i} is
 * {@code (i - negativeBins) * binWidth}, so the histogram spans
 * {@code [-negativeBins * binWidth, positiveBins * binWidth]}, which covers {@code [min(min, 0), max(max, 0)]}.
 * Why zero on an edge: int8 activation ranges always contain 0 (QUANT-SPEC.md) and TFLite represents 0
 * exactly, so every range method chooses edges on either side of 0; the negative and positive halves
 * share a width, so |x| folds exactly into a one-sided histogram for the entropy method; a ReLU output's spike
 * of exact zeros sits in the first positive bin instead of straddling one. The span is split into about
 * {@code targetBins} bins (2048 by default, as TensorRT's entropy calibrator).
 *
 * <p>A degenerate span (the tensor was all zeros) has {@code binWidth == 0} and a single bin holding exactly 0.
 */
public record BinLayout(double binWidth, int negativeBins, int positiveBins) implements Serializable {

  public static final int DEFAULT_TARGET_BINS = 2048;

  public BinLayout {
    if (!(binWidth >= 0) || Double.isInfinite(binWidth) || negativeBins < 0 || positiveBins < 0
        || negativeBins + positiveBins < 1 || (binWidth == 0 && negativeBins + positiveBins != 1)) {
      throw new IllegalArgumentException("invalid bin layout: binWidth=" + binWidth + ", negativeBins="
          + negativeBins + ", positiveBins=" + positiveBins
          + " (valid: finite binWidth > 0 and at least one bin, or binWidth 0 with exactly one bin)");
    }
  }

  /** The layout for a tensor whose pass-1 statistics are {@code stats}; throws if they saw no finite value. */
  public static BinLayout forRange(MinMaxStats stats, int targetBins) {
    if (stats.count() == 0) {
      throw new IllegalArgumentException("cannot lay out a histogram for a tensor with no finite values");
    }
    return forRange(stats.min(), stats.max(), targetBins);
  }

  /** The layout covering {@code [min(min, 0), max(max, 0)]} with about {@code targetBins} bins. */
  public static BinLayout forRange(float min, float max, int targetBins) {
    if (!Float.isFinite(min) || !Float.isFinite(max) || min > max) {
      throw new IllegalArgumentException("range must be finite with min <= max, got [" + min + ", " + max + "]");
    }
    if (targetBins < 2) {
      throw new IllegalArgumentException("targetBins must be >= 2, got " + targetBins);
    }
    double lo = Math.min(min, 0f);
    double hi = Math.max(max, 0f);
    if (hi - lo == 0) {
      return new BinLayout(0, 0, 1);
    }
    double width = (hi - lo) / targetBins;
    // ceil keeps the observed range inside the edges; the two sides together hold targetBins or targetBins + 1.
    int negative = (int) Math.ceil(-lo / width);
    int positive = (int) Math.ceil(hi / width);
    // The quotients are rounded: make sure the products really cover the observed extremes.
    while (-negative * width > lo) {
      negative++;
    }
    while (positive * width < hi) {
      positive++;
    }
    return new BinLayout(width, negative, Math.max(positive, negative == 0 ? 1 : 0));
  }

  public int binCount() {
    return negativeBins + positiveBins;
  }

  /** Edge {@code i}, for {@code 0 <= i <= binCount()}; edge {@code negativeBins} is exactly 0. */
  public double edge(int i) {
    return (i - negativeBins) * binWidth;
  }

  public double lowerEdge() {
    return edge(0);
  }

  public double upperEdge() {
    return edge(binCount());
  }

  /** The centre of bin {@code i}. */
  public double center(int i) {
    return (i - negativeBins + 0.5) * binWidth;
  }

  /** True if {@code x} lies within {@code [lowerEdge(), upperEdge()]}. */
  public boolean contains(float x) {
    return x >= lowerEdge() && x <= upperEdge();
  }

  /** The bin of a value inside the layout; the upper edge belongs to the last bin. */
  public int binOf(float x) {
    if (binWidth == 0) {
      return 0;
    }
    int i = (int) Math.floor(x / binWidth) + negativeBins;
    return Math.max(0, Math.min(binCount() - 1, i));
  }

  ObjectNode toJson() {
    ObjectNode node = StatsJson.MAPPER.createObjectNode();
    node.put("binWidth", binWidth);
    node.put("negativeBins", negativeBins);
    node.put("positiveBins", positiveBins);
    return node;
  }

  static BinLayout fromJson(JsonNode node) {
    return new BinLayout(StatsJson.requireDouble(node, "binWidth"), StatsJson.requireInt(node, "negativeBins"),
        StatsJson.requireInt(node, "positiveBins"));
  }
}
