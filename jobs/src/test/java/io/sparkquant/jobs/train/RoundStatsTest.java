package io.sparkquant.jobs.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Merge laws of the per-round sums (STYLE.md section 4), with a fixed seed. */
class RoundStatsTest {

  private static final int LENGTH = 37;
  private final Random random = new Random(20261127L);

  private RoundStats worker() {
    float[] params = new float[LENGTH];
    float[] state = new float[2 * LENGTH];
    for (int i = 0; i < LENGTH; i++) {
      params[i] = (float) random.nextGaussian();
      state[i] = (float) random.nextGaussian();
      state[LENGTH + i] = random.nextFloat();
    }
    int steps = 1 + random.nextInt(8);
    long samples = steps * 32L - random.nextInt(32);
    return RoundStats.ofWorker(params, state, samples, random.nextDouble() * samples, 32, random.nextInt(33),
        steps);
  }

  private static RoundStats copy(RoundStats s) {
    return RoundStats.empty().merge(s);
  }

  private static void assertSame(RoundStats expected, RoundStats actual) {
    assertArrayEquals(expected.averageParams(), actual.averageParams());
    assertArrayEquals(expected.averageUpdaterState(), actual.averageUpdaterState());
    assertEquals(expected.samples, actual.samples);
    assertEquals(expected.lossSum, actual.lossSum, 1e-9 * Math.abs(expected.lossSum));
    assertEquals(expected.accuracySamples, actual.accuracySamples);
    assertEquals(expected.accuracyCorrect, actual.accuracyCorrect);
    assertEquals(expected.maxSteps, actual.maxSteps);
  }

  @Test
  void emptyIsTheIdentityOnBothSides() {
    RoundStats a = worker();
    assertSame(a, copy(a).merge(RoundStats.empty()));
    assertSame(a, RoundStats.empty().merge(copy(a)));
  }

  @Test
  void mergeIsCommutativeAndAssociative() {
    RoundStats a = worker();
    RoundStats b = worker();
    RoundStats c = worker();
    assertSame(copy(a).merge(b), copy(b).merge(a));
    assertSame(copy(a).merge(b).merge(c), copy(a).merge(copy(b).merge(c)));
  }

  @Test
  void averageIsWeightedBySamples() {
    RoundStats a = RoundStats.ofWorker(new float[] {1f}, new float[] {0f}, 30, 0, 0, 0, 1);
    RoundStats b = RoundStats.ofWorker(new float[] {4f}, new float[] {2f}, 10, 0, 0, 0, 1);
    RoundStats sum = copy(a).merge(b);
    assertArrayEquals(new float[] {(30 * 1f + 10 * 4f) / 40}, sum.averageParams());
    assertArrayEquals(new float[] {0.5f}, sum.averageUpdaterState());
  }

  @Test
  void averagingNothingIsAnError() {
    assertThrows(IllegalStateException.class, () -> RoundStats.empty().averageParams());
  }
}
