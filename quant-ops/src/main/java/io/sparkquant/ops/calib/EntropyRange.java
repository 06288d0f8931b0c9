package io.sparkquant.ops.calib;

import java.util.Arrays;

/**
 * Minimum-KL-divergence thresholds, as TensorRT's entropy calibrator (the algorithm as published in NVIDIA's
 * pytorch-quantization {@code _compute_amax_entropy}): for every candidate threshold {@code i} (in bins) the
 * reference distribution P is the first {@code i} bins with all mass beyond folded into the last one; Q merges the
 * same bins into {@code L} quantization levels and spreads each level's mass evenly over its non-empty bins; the
 * threshold with the smallest KL(P || Q) wins (the last one on ties, as the reference does). As there, bin 0 takes
 * the count of bin 1 so that the spike of exact zeros from a ReLU does not dominate the divergence.
 *
 * <p>Point masses elsewhere get the same treatment (our extension): a bin holding more than twice as many values as
 * each neighbour and at least {@link #POINT_MASS_SHARE} of all values takes its larger neighbour's count. Such a bin
 * is one value many inputs share exactly (a ReLU output over a constant image background, one per channel); any
 * range represents it to within half a step, yet Q spreads it over its level's bins, so the divergence rewards
 * thresholds that leave it alone in a level: the search settled just above it and clipped the tail (first conv of
 * the Fashion-MNIST cnn: [0, 0.89] of an observed 6.77, -8.5 pt top-1).
 *
 * <p>Adaptation to TFLite's asymmetric int8 activations (TensorRT's are symmetric):
 * <ul>
 *   <li>One-sided tensor (no negative values, e.g. after ReLU; or no positive ones): the whole int8 range maps onto
 *       that side (zero point -128), so the search runs on that side alone with {@code L = 256} levels, the
 *       reference's "unsigned" case. The result is {@code [0, T]} (or {@code [-T, 0]}).
 *   <li>Two-sided tensor: the halves share a bin width and meet at the edge 0, so |x| folds exactly into a one-sided
 *       histogram; the search runs on it with {@code L = 128} levels (a symmetric [-T, T] on 256 codes gives each
 *       side ~128 levels, TensorRT's setting) and the range is {@code [-T, T]} narrowed to the observed extremes.
 *       A per-side search was rejected: the two sides share one scale, so their level counts are coupled and a
 *       joint search costs O(bins^3).
 * </ul>
 * If a side has fewer bins than levels there is nothing to merge and the observed range is kept.
 */
final class EntropyRange {

  static final int SIGNED_LEVELS = 128;
  static final int UNSIGNED_LEVELS = 256;
  /** The smallest share of all values a bin must hold to count as a point mass. */
  static final double POINT_MASS_SHARE = 1e-3;

  private EntropyRange() {}

  static ClipRange select(MinMaxStats minMax, HistogramStats histogram) {
    BinLayout layout = histogram.layout();
    if (layout.binWidth() == 0) {
      return new ClipRange(0f, 0f);
    }
    int zero = layout.negativeBins();
    int positive = layout.positiveBins();
    boolean hasNegative = minMax.min() < 0;
    boolean hasPositive = minMax.max() > 0;
    if (hasNegative && hasPositive) {
      long[] folded = new long[Math.max(zero, positive)];
      for (int k = 0; k < positive; k++) {
        folded[k] += histogram.binCount(zero + k);
      }
      for (int k = 0; k < zero; k++) {
        folded[k] += histogram.binCount(zero - 1 - k);
      }
      int t = thresholdBins(folded, SIGNED_LEVELS);
      return HistogramRanges.clampToObserved(-t * layout.binWidth(), t * layout.binWidth(), minMax);
    }
    if (hasPositive) {
      long[] side = new long[positive];
      for (int k = 0; k < positive; k++) {
        side[k] = histogram.binCount(zero + k);
      }
      return HistogramRanges.clampToObserved(0, thresholdBins(side, UNSIGNED_LEVELS) * layout.binWidth(), minMax);
    }
    long[] side = new long[zero];
    for (int k = 0; k < zero; k++) {
      side[k] = histogram.binCount(zero - 1 - k);
    }
    return HistogramRanges.clampToObserved(-thresholdBins(side, UNSIGNED_LEVELS) * layout.binWidth(), 0, minMax);
  }

  /** The threshold, in bins from 0, with the least KL divergence; {@code hist[0]} is the bin next to 0. */
  static int thresholdBins(long[] hist, int levels) {
    int bins = hist.length;
    if (bins <= levels) {
      return bins;
    }
    double[] h = new double[bins];
    for (int k = 0; k < bins; k++) {
      h[k] = hist[k];
    }
    h[0] = h[1];
    flattenPointMasses(h);
    double[] suffix = new double[bins + 1];
    for (int k = bins - 1; k >= 0; k--) {
      suffix[k] = suffix[k + 1] + h[k];
    }
    double[] levelMass = new double[levels];
    int[] levelNonEmpty = new int[levels];
    double best = Double.POSITIVE_INFINITY;
    int bestBins = bins;
    for (int i = levels; i <= bins; i++) {
      Arrays.fill(levelMass, 0);
      Arrays.fill(levelNonEmpty, 0);
      for (int k = 0; k < i; k++) {
        if (h[k] != 0) {
          int level = (int) ((long) k * levels / i);
          levelMass[level] += h[k];
          levelNonEmpty[level]++;
        }
      }
      double outliers = suffix[i];
      double total = suffix[0];
      // P (normalised by the total) folds the outliers into its last bin; Q is normalised by its own mass.
      double qTotal = 0;
      for (int l = 0; l < levels; l++) {
        qTotal += levelMass[l];
      }
      double kl = 0;
      for (int k = 0; k < i && kl != Double.POSITIVE_INFINITY; k++) {
        double p = h[k] + (k == i - 1 ? outliers : 0);
        if (p == 0) {
          continue;
        }
        double q = 0;
        if (h[k] != 0) {
          int level = (int) ((long) k * levels / i);
          q = levelMass[level] / levelNonEmpty[level];
        }
        if (q == 0) {
          kl = Double.POSITIVE_INFINITY;
        } else {
          double pn = p / total;
          kl += pn * Math.log(pn / (q / qTotal));
        }
      }
      if (kl <= best) {
        best = kl;
        bestBins = i;
      }
    }
    return bestBins;
  }

  /** Gives every point mass (see the class comment) its larger neighbour's count, in place; bin 0 is left alone. */
  static void flattenPointMasses(double[] h) {
    double total = 0;
    for (double c : h) {
      total += c;
    }
    double[] original = h.clone(); // judge every bin against its neighbours' observed counts
    for (int k = 1; k < h.length; k++) {
      double neighbour = Math.max(original[k - 1], k + 1 < h.length ? original[k + 1] : 0);
      if (original[k] > 2 * neighbour && original[k] >= POINT_MASS_SHARE * total) {
        h[k] = neighbour;
      }
    }
  }
}
