package io.sparkquant.ops.calib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.numerics.QuantParams;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RangeMethodTest {

  private static final long SEED = 42L;
  /** The MSE search models in-range error as s^2/12 at bin centres; its pick may be this much worse than the best. */
  private static final double MSE_MODEL_TOLERANCE = 0.02;

  /** KL divergences (nats) computed in another summation order agree to far better than this. */
  private static final double KL_ORDER_TOLERANCE = 1e-12;
  /** Relative agreement of MSE objectives summed bin by bin and from prefix sums. */
  private static final double MSE_ORDER_TOLERANCE = 1e-9;
  /** The reference MSE search costs O(bins^3): a coarser layout keeps it fast. */
  private static final int MSE_REFERENCE_BINS = 256;

  private static final RangeMethod[] ALL = {
      RangeMethod.minMax(), RangeMethod.percentile(99.99), RangeMethod.entropy(), RangeMethod.mse()};

  /** 1M N(0, 1) values plus one outlier at each of -40 and +40. */
  private static float[] gaussianWithOutliers() {
    float[] v = TestData.gaussian(new Random(SEED), 1_000_002, 0, 1);
    v[17] = -40f;
    v[500_000] = 40f;
    return v;
  }

  private static ClipRange select(RangeMethod method, float[] values) {
    Observed o = observe("values", values, BinLayout.DEFAULT_TARGET_BINS);
    return method.select(o.minMax(), o.histogram());
  }

  /** A tensor's pass-1 and pass-2 statistics, as calibration computes them. */
  private record Observed(String name, MinMaxStats minMax, HistogramStats histogram) {}

  private static Observed observe(String name, float[] values, int targetBins) {
    MinMaxStats mm = MinMaxStats.empty().addAll(values);
    HistogramStats h = HistogramStats.empty(BinLayout.forRange(mm, targetBins)).addAll(values);
    return new Observed(name, mm, h);
  }

  /** A ReLU output where every third value is one of three constants (an image background): point masses. */
  private static float[] reluWithPointMasses(int n) {
    Random rnd = new Random(SEED + 4);
    float[] constants = {0.31f, 0.58f, 0.86f};
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      float smooth = (float) Math.max(0, rnd.nextGaussian() * 1.5);
      v[i] = i % 3 == 0 ? constants[(i / 3) % constants.length] : smooth;
    }
    return v;
  }

  /** Mostly small positive values with a long tail on both sides. */
  private static float[] skewedTwoSided(int n) {
    Random rnd = new Random(SEED + 1);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      double g = rnd.nextGaussian();
      v[i] = (float) (i % 50 == 0 ? g * 8 : Math.abs(g) - 0.3);
    }
    return v;
  }

  private static float[] negativeHalfGaussian(int n) {
    float[] v = TestData.gaussian(new Random(SEED + 3), n, 0, 1);
    for (int i = 0; i < v.length; i++) {
      v[i] = -Math.abs(v[i]);
    }
    return v;
  }

  /** The fixed histograms the methods are checked on against {@link ReferenceRanges}. */
  private static List<Observed> fixtures(int targetBins) {
    return List.of(
        observe("gaussian with outliers", gaussianWithOutliers(), targetBins),
        observe("relu with point masses", reluWithPointMasses(300_000), targetBins),
        observe("skewed two-sided", skewedTwoSided(40_000), targetBins),
        observe("negative half-gaussian", negativeHalfGaussian(100_000), targetBins));
  }

  /** The real int8 quantization MSE of {@code values} with the parameters chosen for {@code range}. */
  private static double quantizationMse(float[] values, ClipRange range) {
    QuantParams p = range.int8Params();
    double sum = 0;
    for (float x : values) {
      double e = x - p.dequantize(p.quantize(x, -128, 127));
      sum += e * e;
    }
    return sum / values.length;
  }

  @Test
  void histogramMethodsClipOutliersAndMinMaxDoesNot() {
    float[] v = gaussianWithOutliers();
    assertEquals(new ClipRange(-40f, 40f), select(RangeMethod.minMax(), v));

    ClipRange p = select(RangeMethod.percentile(99.99), v);
    // 100 values per tail may be clipped: the N(0,1) 0.01% quantile is 3.72.
    assertTrue(p.min() < -3.0f && p.min() > -4.5f && p.max() > 3.0f && p.max() < 4.5f, "percentile " + p);

    ClipRange e = select(RangeMethod.entropy(), v);
    assertTrue(e.min() > -15f && e.max() < 15f && e.max() > 2f && e.min() < -2f, "entropy " + e);

    ClipRange m = select(RangeMethod.mse(), v);
    assertTrue(m.min() > -20f && m.max() < 20f && m.max() > 2f && m.min() < -2f, "mse " + m);
    for (ClipRange r : new ClipRange[] {p, e, m}) {
      assertTrue(quantizationMse(v, r) < quantizationMse(v, new ClipRange(-40f, 40f)), r.toString());
    }
  }

  /**
   * Eight bins of width 1/4 over [-1, 1] and 100 values, p = 95: each tail may lose floor(100 * 5 / 100) = 5
   * values. From the top, bins 7 and 6 hold 2 + 3 = 5 (clipped) and bin 5 would make 10, so the upper end is edge
   * 6 = 0.5; from the bottom, bins 0..2 hold 1 + 0 + 2 = 3 and bin 3 would make 50, so the lower end is edge 3.
   */
  @Test
  void percentileClipsWholeBinsUpToTheTailBudget() {
    long[] counts = {1, 0, 2, 47, 40, 5, 3, 2};
    float[] v = new float[100];
    int i = 0;
    for (int bin = 0; bin < counts.length; bin++) {
      for (int c = 0; c < counts[bin]; c++) {
        v[i++] = (bin - 4 + 0.5f) / 4;
      }
    }
    v[0] = -1f; // the observed extremes span the eight bins exactly
    v[99] = 1f;
    Observed o = observe("hand-made", v, 8);
    assertEquals(new BinLayout(0.25, 4, 4), o.histogram().layout());
    assertArrayEquals(counts, o.histogram().counts());
    assertEquals(new ClipRange(-0.25f, 0.5f), RangeMethod.percentile(95).select(o.minMax(), o.histogram()));
    assertEquals(new ClipRange(-0.25f, 0.5f), ReferenceRanges.percentile(o.minMax(), o.histogram(), 95));
  }

  /** Includes a budget that is an exact integer: 40,000 skewed values at 99.9 % may lose 40 per tail, not 39. */
  @Test
  void percentileMatchesTheReferenceExactly() {
    for (Observed o : fixtures(BinLayout.DEFAULT_TARGET_BINS)) {
      for (double p : new double[] {99, 99.9, 99.99}) {
        ClipRange expected = ReferenceRanges.percentile(o.minMax(), o.histogram(), p);
        assertEquals(expected, RangeMethod.percentile(p).select(o.minMax(), o.histogram()), o.name() + " p=" + p);
      }
      ClipRange observed = new ClipRange(o.minMax().min(), o.minMax().max());
      assertNotEquals(observed, ReferenceRanges.percentile(o.minMax(), o.histogram(), 99.9),
          o.name() + ": the fixture should clip");
    }
  }

  @Test
  void entropyMatchesTheReferenceKlSearchExactly() {
    for (Observed o : fixtures(BinLayout.DEFAULT_TARGET_BINS)) {
      ReferenceRanges.Search expected = ReferenceRanges.entropy(o.minMax(), o.histogram());
      // Summation order differs from the reference; the pick is only comparable if no other threshold is that close.
      assertTrue(expected.secondBest() - expected.best() > KL_ORDER_TOLERANCE, o.name() + " KL " + expected);
      assertEquals(expected.range(), RangeMethod.entropy().select(o.minMax(), o.histogram()), o.name());
      ClipRange observed = new ClipRange(o.minMax().min(), o.minMax().max());
      assertNotEquals(observed, expected.range(), o.name() + ": the fixture should clip");
    }
  }

  @Test
  void mseMatchesTheReferenceExhaustiveSearchExactly() {
    for (Observed o : fixtures(MSE_REFERENCE_BINS)) {
      ReferenceRanges.Search expected = ReferenceRanges.mse(o.minMax(), o.histogram());
      assertTrue(expected.secondBest() - expected.best() > MSE_ORDER_TOLERANCE * expected.best(),
          o.name() + " error " + expected);
      assertEquals(expected.range(), RangeMethod.mse().select(o.minMax(), o.histogram()), o.name());
    }
  }

  @Test
  void mseRangeIsCloseToTheBestRangeByRealQuantizationError() {
    float[] v = skewedTwoSided(40_000);
    ClipRange chosen = select(RangeMethod.mse(), v);
    MinMaxStats mm = MinMaxStats.empty().addAll(v);
    double best = Double.POSITIVE_INFINITY;
    // Brute force over a grid of ranges, judged by real quantize/dequantize.
    for (int i = 0; i <= 24; i++) {
      for (int j = 0; j <= 24; j++) {
        ClipRange r = new ClipRange(mm.min() * i / 24f, mm.max() * j / 24f);
        best = Math.min(best, quantizationMse(v, r));
      }
    }
    double actual = quantizationMse(v, chosen);
    assertTrue(actual <= best * (1 + MSE_MODEL_TOLERANCE), "mse pick " + chosen + " error " + actual
        + " vs best on grid " + best);
  }

  @Test
  void reluTensorKeepsZeroAsItsLowerEnd() {
    Random rnd = new Random(SEED + 2);
    float[] v = new float[400_001];
    for (int i = 0; i < v.length - 1; i++) {
      v[i] = (float) Math.max(0, rnd.nextGaussian());
    }
    v[v.length - 1] = 40f;
    for (RangeMethod method : ALL) {
      ClipRange r = select(method, v);
      assertEquals(0f, r.min(), method.name());
      assertEquals(-128, r.int8Params().zeroPoint(), method.name());
      if (method.needsHistogram()) {
        // MSE trades one outlier's clipping error against 400k values' rounding error, so it clips less.
        float bound = method instanceof RangeMethod.Mse ? 35f : 15f;
        assertTrue(r.max() > 2f && r.max() < bound, method.name() + " " + r);
      }
    }
  }

  /**
   * A ReLU output where a third of the inputs are constant (an image background): every such position yields the
   * same value, a point mass. Point masses are represented to within half a step by any range, so they must not
   * pull the entropy threshold onto themselves (the KL search alone put it just above the largest one).
   */
  @Test
  void entropyRangeIgnoresPointMasses() {
    Random rnd = new Random(SEED + 4);
    float[] smooth = new float[300_000];
    float[] spiky = new float[smooth.length];
    float[] constants = {0.31f, 0.58f, 0.86f};
    for (int i = 0; i < smooth.length; i++) {
      smooth[i] = (float) Math.max(0, rnd.nextGaussian() * 1.5);
      spiky[i] = i % 3 == 0 ? constants[(i / 3) % constants.length] : smooth[i];
    }
    ClipRange withoutSpikes = select(RangeMethod.entropy(), smooth);
    ClipRange withSpikes = select(RangeMethod.entropy(), spiky);
    assertTrue(withoutSpikes.max() > 3f, "entropy on the smooth tensor " + withoutSpikes);
    assertEquals(withoutSpikes.max(), withSpikes.max(), withoutSpikes.max() * 0.05,
        "entropy with point masses " + withSpikes + " vs without " + withoutSpikes);
    assertTrue(quantizationMse(spiky, withSpikes) < 1.2 * quantizationMse(spiky, select(RangeMethod.mse(), spiky)),
        "entropy's range should cost about what mse's does");
  }

  @Test
  void negativeOnlyTensorKeepsZeroAsItsUpperEnd() {
    float[] v = negativeHalfGaussian(100_000);
    for (RangeMethod method : ALL) {
      ClipRange r = select(method, v);
      assertTrue(r.max() <= 0f && r.min() < -2f, method.name() + " " + r);
      assertEquals(127, r.int8Params().zeroPoint(), method.name());
    }
  }

  @Test
  void allZeroTensorFollowsQuantParamsDegenerateRule() {
    float[] v = new float[1000];
    for (RangeMethod method : ALL) {
      ClipRange r = select(method, v);
      assertEquals(new ClipRange(0f, 0f), r, method.name());
      assertEquals(QuantParams.int8Activation(0f, 0f), r.int8Params());
      assertEquals(QuantParams.MIN_SCALE, r.int8Params().scale());
    }
  }

  @Test
  void percentile100KeepsTheObservedRange() {
    float[] v = gaussianWithOutliers();
    assertEquals(new ClipRange(-40f, 40f), select(RangeMethod.percentile(100), v));
  }

  @Test
  void parseValidatesNamesAndPercentile() {
    assertEquals(RangeMethod.percentile(99.9), RangeMethod.parse("percentile", 99.9));
    assertEquals(RangeMethod.percentile(RangeMethod.DEFAULT_PERCENTILE), RangeMethod.parse("PERCENTILE", null));
    assertEquals(RangeMethod.entropy(), RangeMethod.parse("entropy", null));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RangeMethod.parse("kl", null)).getMessage()
        .contains("valid: minmax, percentile, entropy, mse"));
    assertThrows(IllegalArgumentException.class, () -> RangeMethod.parse("mse", 99.0));
    assertThrows(IllegalArgumentException.class, () -> RangeMethod.percentile(40));
    assertThrows(IllegalArgumentException.class, () -> RangeMethod.percentile(Double.NaN));
  }
}
