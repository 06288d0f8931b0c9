package io.sparkquant.ops.calib;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Percentile clipping on the histogram: each tail keeps at most {@code floor(N * (100 - p) / 100)} values outside
 * the range. Asymmetric int8 activations have two independent ends, so the tails are clipped separately (rather
 * than taking a percentile of |x| as symmetric calibrators do); a ReLU output's lower end stays at 0. Bounds are
 * bin edges, so the clipped mass never exceeds the tail budget.
 */
final class PercentileRange {

  private PercentileRange() {}

  static ClipRange select(MinMaxStats minMax, HistogramStats histogram, double percentile) {
    BinLayout layout = histogram.layout();
    if (layout.binWidth() == 0) {
      return new ClipRange(0f, 0f);
    }
    // In decimal, as the percentile is written: in double 100 - 99.9 is 0.0999999999999943, and 40,000 values
    // would get a budget of 39 instead of 40.
    long tail = BigDecimal.valueOf(histogram.count())
        .multiply(BigDecimal.valueOf(100).subtract(BigDecimal.valueOf(percentile)))
        .movePointLeft(2).setScale(0, RoundingMode.FLOOR).longValueExact();
    int zero = layout.negativeBins();
    int upper = layout.binCount();
    long clipped = 0;
    while (upper > zero && clipped + histogram.binCount(upper - 1) <= tail) {
      clipped += histogram.binCount(upper - 1);
      upper--;
    }
    int lower = 0;
    clipped = 0;
    while (lower < zero && clipped + histogram.binCount(lower) <= tail) {
      clipped += histogram.binCount(lower);
      lower++;
    }
    return HistogramRanges.clampToObserved(layout.edge(lower), layout.edge(upper), minMax);
  }
}
