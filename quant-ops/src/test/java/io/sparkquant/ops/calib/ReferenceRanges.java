package io.sparkquant.ops.calib;

/**
 * Straightforward re-implementations of the histogram range methods from their definitions (the class comments of
 * {@link PercentileRange}, {@link EntropyRange} and {@link MseRange}), written for clarity rather than speed and
 * sharing no code with them: sums are recomputed per candidate instead of taken from prefix sums, the entropy
 * search assigns bins to levels the way pytorch-quantization's {@code _compute_amax_entropy} does (counting the
 * level boundaries at or below a bin, {@code np.digitize}) and normalises P and Q before the divergence.
 */
final class ReferenceRanges {

  /** The documented smallest share of all values of a point mass (EntropyRange's class comment). */
  private static final double POINT_MASS_SHARE = 1e-3;

  private ReferenceRanges() {}

  /**
   * A chosen range with its objective and the best objective of any other candidate: the optimum is only comparable
   * across summation orders if the two are further apart than rounding.
   */
  record Search(ClipRange range, double best, double secondBest) {}

  static ClipRange percentile(MinMaxStats minMax, HistogramStats histogram, double percentile) {
    BinLayout layout = histogram.layout();
    long[] c = histogram.counts();
    int zero = layout.negativeBins();
    long n = 0;
    for (long x : c) {
      n += x;
    }
    // floor(N * (100 - p) / 100) in integers, p in hundredths of a percent.
    long hundredths = Math.round(percentile * 100);
    if (Math.abs(hundredths - percentile * 100) > 1e-6) {
      throw new IllegalArgumentException("the reference takes percentiles with two decimals at most, got "
          + percentile);
    }
    long tail = n * (10_000 - hundredths) / 10_000;
    // The narrowest upper edge (at or above 0) with at most `tail` values above it, and likewise below.
    int upper = zero;
    while (sum(c, upper, c.length) > tail) {
      upper++;
    }
    int lower = zero;
    while (sum(c, 0, lower) > tail) {
      lower--;
    }
    return clamp(edge(layout, lower), edge(layout, upper), minMax);
  }

  /** The entropy range: the side(s) of 0 folded into one histogram, then the KL threshold search. */
  static Search entropy(MinMaxStats minMax, HistogramStats histogram) {
    BinLayout layout = histogram.layout();
    long[] c = histogram.counts();
    int zero = layout.negativeBins();
    int positive = layout.positiveBins();
    double w = layout.binWidth();
    if (minMax.min() < 0 && minMax.max() > 0) {
      long[] abs = new long[Math.max(zero, positive)];
      for (int k = 0; k < abs.length; k++) { // bin k of |x| holds [k w, (k + 1) w) from both sides
        abs[k] = (zero + k < c.length ? c[zero + k] : 0) + (zero - 1 - k >= 0 ? c[zero - 1 - k] : 0);
      }
      Threshold t = klThreshold(abs, 128);
      return new Search(clamp(-t.bins * w, t.bins * w, minMax), t.best, t.secondBest);
    }
    if (minMax.max() > 0) {
      long[] side = new long[positive];
      System.arraycopy(c, zero, side, 0, positive);
      Threshold t = klThreshold(side, 256);
      return new Search(clamp(0, t.bins * w, minMax), t.best, t.secondBest);
    }
    long[] side = new long[zero];
    for (int k = 0; k < zero; k++) {
      side[k] = c[zero - 1 - k];
    }
    Threshold t = klThreshold(side, 256);
    return new Search(clamp(-t.bins * w, 0, minMax), t.best, t.secondBest);
  }

  /** A threshold in bins from 0, its divergence and the least divergence of any other threshold. */
  record Threshold(int bins, double best, double secondBest) {}

  /**
   * The KL threshold search on a one-sided histogram ({@code hist[0]} next to 0): bin 0 takes bin 1's count,
   * point masses take their larger neighbour's count, then every threshold from {@code levels} to all bins is
   * tried; the last of equal minima wins.
   */
  static Threshold klThreshold(long[] hist, int levels) {
    int bins = hist.length;
    if (bins <= levels) {
      return new Threshold(bins, Double.NaN, Double.NaN);
    }
    double[] raw = new double[bins];
    for (int k = 0; k < bins; k++) {
      raw[k] = hist[k];
    }
    raw[0] = raw[1];
    double total = 0;
    for (double x : raw) {
      total += x;
    }
    double[] h = raw.clone();
    for (int k = 1; k < bins; k++) {
      double left = raw[k - 1];
      double right = k + 1 < bins ? raw[k + 1] : 0;
      if (raw[k] > 2 * left && raw[k] > 2 * right && raw[k] >= POINT_MASS_SHARE * total) {
        h[k] = Math.max(left, right);
      }
    }
    double[] divergence = new double[bins + 1];
    for (int i = levels; i <= bins; i++) {
      // Level of bin k: how many of the boundaries j * i / levels (j = 1 .. levels - 1) lie at or below k.
      int[] level = new int[i];
      int boundaries = 0;
      for (int k = 0; k < i; k++) {
        while (boundaries + 1 < levels && (long) (boundaries + 1) * i <= (long) k * levels) {
          boundaries++;
        }
        level[k] = boundaries;
      }
      double[] mass = new double[levels];
      int[] nonEmpty = new int[levels];
      for (int k = 0; k < i; k++) {
        if (h[k] != 0) {
          mass[level[k]] += h[k];
          nonEmpty[level[k]]++;
        }
      }
      double[] p = new double[i];
      double[] q = new double[i];
      for (int k = 0; k < i; k++) {
        p[k] = h[k];
        q[k] = h[k] == 0 ? 0 : mass[level[k]] / nonEmpty[level[k]];
      }
      for (int k = i; k < bins; k++) {
        p[i - 1] += h[k]; // the clipped values count in the last bin
      }
      normalise(p);
      normalise(q);
      double kl = 0;
      for (int k = 0; k < i; k++) {
        if (p[k] > 0) {
          kl += q[k] == 0 ? Double.POSITIVE_INFINITY : p[k] * Math.log(p[k] / q[k]);
        }
      }
      divergence[i] = kl;
    }
    int best = levels;
    for (int i = levels; i <= bins; i++) {
      if (divergence[i] <= divergence[best]) {
        best = i;
      }
    }
    double second = Double.POSITIVE_INFINITY;
    for (int i = levels; i <= bins; i++) {
      if (i != best) {
        second = Math.min(second, divergence[i]);
      }
    }
    return new Threshold(best, divergence[best], second);
  }

  /** The MSE range by exhaustive search, each candidate's error summed bin by bin. */
  static Search mse(MinMaxStats minMax, HistogramStats histogram) {
    BinLayout layout = histogram.layout();
    long[] c = histogram.counts();
    int zero = layout.negativeBins();
    double w = layout.binWidth();
    double best = Double.POSITIVE_INFINITY;
    double second = Double.POSITIVE_INFINITY;
    int bestLower = 0;
    int bestUpper = c.length;
    for (int i = zero; i >= 0; i--) {
      for (int j = zero; j <= c.length; j++) {
        double a = edge(layout, i);
        double b = edge(layout, j);
        double step = (b - a) / 255;
        double error = 0;
        for (int k = 0; k < c.length; k++) {
          double x = (k - zero + 0.5) * w; // the bin's values taken at its centre
          if (k < i) {
            error += c[k] * (x - a) * (x - a);
          } else if (k >= j) {
            error += c[k] * (x - b) * (x - b);
          } else {
            error += c[k] * step * step / 12;
          }
        }
        if (error < best) {
          second = best;
          best = error;
          bestLower = i;
          bestUpper = j;
        } else if (error < second) {
          second = error;
        }
      }
    }
    return new Search(clamp(edge(layout, bestLower), edge(layout, bestUpper), minMax), best, second);
  }

  private static double edge(BinLayout layout, int i) {
    return (i - layout.negativeBins()) * layout.binWidth();
  }

  /** A range of edges narrowed to the observed values; a one-sided tensor keeps its observed side. */
  private static ClipRange clamp(double lowerEdge, double upperEdge, MinMaxStats minMax) {
    float lo = (float) Math.max(lowerEdge, minMax.min());
    float hi = (float) Math.min(upperEdge, minMax.max());
    return new ClipRange(Math.min(lo, minMax.max()), Math.max(hi, minMax.min()));
  }

  private static long sum(long[] c, int from, int to) {
    long s = 0;
    for (int k = from; k < to; k++) {
      s += c[k];
    }
    return s;
  }

  private static void normalise(double[] d) {
    double s = 0;
    for (double x : d) {
      s += x;
    }
    for (int k = 0; k < d.length; k++) {
      d[k] /= s;
    }
  }
}
