package io.sparkquant.ops.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.numerics.QuantParams;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RangeMethodTest {

  private static final long SEED = 42L;
  /** The MSE search models in-range error as s^2/12 at bin centres; its pick may be this much worse than the best. */
  private static final double MSE_MODEL_TOLERANCE = 0.02;

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
    MinMaxStats mm = MinMaxStats.empty().addAll(values);
    HistogramStats h = HistogramStats.empty(BinLayout.forRange(mm, BinLayout.DEFAULT_TARGET_BINS)).addAll(values);
    return method.select(mm, h);
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

  @Test
  void mseRangeIsCloseToTheBestRangeByRealQuantizationError() {
    Random rnd = new Random(SEED + 1);
    // A skewed two-sided tensor: mostly small positive values with a long tail on both sides.
    float[] v = new float[40_000];
    for (int i = 0; i < v.length; i++) {
      double g = rnd.nextGaussian();
      v[i] = (float) (i % 50 == 0 ? g * 8 : Math.abs(g) - 0.3);
    }
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
    float[] v = TestData.gaussian(new Random(SEED + 3), 100_000, 0, 1);
    for (int i = 0; i < v.length; i++) {
      v[i] = -Math.abs(v[i]);
    }
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
