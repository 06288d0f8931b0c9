package io.sparkquant.ops.calib;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded inputs for the statistics tests. */
final class TestData {

  private TestData() {}

  /** Gaussian values with the awkward ones mixed in: signed zeros, subnormals, NaN and infinities. */
  static List<Float> gaussianWithSpecials(long seed, int n, boolean nonFinite) {
    Random rnd = new Random(seed);
    List<Float> values = new ArrayList<>(n + 8);
    for (int i = 0; i < n; i++) {
      values.add((float) (rnd.nextGaussian() * 3 - 0.5));
    }
    values.add(0.0f);
    values.add(-0.0f);
    values.add(Float.MIN_VALUE);
    values.add(-Float.MIN_VALUE);
    if (nonFinite) {
      values.add(Float.NaN);
      values.add(Float.POSITIVE_INFINITY);
      values.add(Float.NEGATIVE_INFINITY);
    }
    return values;
  }

  static float[] gaussian(Random rnd, int n, double mean, double sigma) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (mean + rnd.nextGaussian() * sigma);
    }
    return v;
  }
}
