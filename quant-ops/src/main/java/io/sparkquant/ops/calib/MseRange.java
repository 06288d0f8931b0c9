package io.sparkquant.ops.calib;

/**
 * The clipping range with the least expected quantization mean squared error, estimated from the histogram.
 *
 * <p>Candidates are all pairs of edges {@code a <= 0 <= b}. With int8 asymmetric quantization over {@code [a, b]}
 * the step is {@code s = (b - a) / 255}; a value inside the range has the uniform rounding error
 * {@code E = s^2 / 12}; a value {@code x} outside is clipped with error {@code (x - a)^2} or {@code (x - b)^2}. Each
 * bin's values are taken at its centre. With prefix sums of {@code n}, {@code n x} and {@code n x^2} every candidate
 * costs O(1), so the exhaustive search over up to ~(bins/2)^2 pairs takes milliseconds. Ties keep the first
 * candidate in scan order (narrowest lower end first, then narrowest upper end), which is deterministic.
 * Rejected alternative: quantizing each bin centre exactly; it makes the error a jagged function of the range
 * (aliasing between the bin grid and the quantization grid) and the minimum lands on artefacts.
 */
final class MseRange {

  /** int8 activations: 256 codes, 255 steps. */
  private static final int STEPS = 255;

  private MseRange() {}

  static ClipRange select(MinMaxStats minMax, HistogramStats histogram) {
    BinLayout layout = histogram.layout();
    if (layout.binWidth() == 0) {
      return new ClipRange(0f, 0f);
    }
    int bins = layout.binCount();
    int zero = layout.negativeBins();
    // prefix[k] = sum over bins < k.
    double[] n = new double[bins + 1];
    double[] nx = new double[bins + 1];
    double[] nxx = new double[bins + 1];
    for (int k = 0; k < bins; k++) {
      double c = histogram.binCount(k);
      double x = layout.center(k);
      n[k + 1] = n[k] + c;
      nx[k + 1] = nx[k] + c * x;
      nxx[k + 1] = nxx[k] + c * x * x;
    }
    double best = Double.POSITIVE_INFINITY;
    int bestLower = 0;
    int bestUpper = bins;
    for (int i = zero; i >= 0; i--) {
      double a = layout.edge(i);
      // Bins below edge i are clipped to a: sum n (x - a)^2.
      double below = nxx[i] - 2 * a * nx[i] + a * a * n[i];
      for (int j = zero; j <= bins; j++) {
        double b = layout.edge(j);
        double cAbove = n[bins] - n[j];
        double above = (nxx[bins] - nxx[j]) - 2 * b * (nx[bins] - nx[j]) + b * b * cAbove;
        double step = (b - a) / STEPS;
        double inside = (n[j] - n[i]) * step * step / 12;
        double error = below + above + inside;
        if (error < best) {
          best = error;
          bestLower = i;
          bestUpper = j;
        }
      }
    }
    return HistogramRanges.clampToObserved(layout.edge(bestLower), layout.edge(bestUpper), minMax);
  }
}
