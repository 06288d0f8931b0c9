package io.sparkquant.ops.calib;

/** Shared steps of the histogram-based range methods. */
final class HistogramRanges {

  private HistogramRanges() {}

  /**
   * A candidate {@code [lowerEdge, upperEdge]} (edges of the layout, on either side of 0) narrowed to the observed
   * extremes: the outer edges of a layout lie at or beyond them, and a range wider than the data gains nothing.
   */
  static ClipRange clampToObserved(double lowerEdge, double upperEdge, MinMaxStats minMax) {
    float lo = (float) Math.max(lowerEdge, minMax.min());
    float hi = (float) Math.min(upperEdge, minMax.max());
    // A one-sided tensor (e.g. all values in [0.2, 1]) keeps its observed side; QuantParams extends to 0.
    lo = Math.min(lo, minMax.max());
    hi = Math.max(hi, minMax.min());
    return new ClipRange(lo, hi);
  }
}
