package io.sparkquant.ops.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** ExactSum and TensorErrorStats: exact, and independent of order, sharding and merge order (STYLE.md 4). */
class ExactSumTest {

  static final int TERMS = 20_000;

  /** Terms spanning 600 binary orders of magnitude, both signs, plus subnormals and zeros. */
  static List<Double> terms(long seed) {
    Random r = new Random(seed);
    List<Double> t = new ArrayList<>();
    for (int i = 0; i < TERMS; i++) {
      t.add((r.nextBoolean() ? 1 : -1) * r.nextDouble() * Math.scalb(1.0, r.nextInt(600) - 300));
    }
    t.add(Double.MIN_VALUE);
    t.add(-0.0);
    t.add(Math.scalb(1.0, 1000));
    t.add(-Math.scalb(1.0, 1000));
    return t;
  }

  static double exactReference(List<Double> t) {
    BigDecimal sum = BigDecimal.ZERO;
    for (double v : t) {
      sum = sum.add(new BigDecimal(v));
    }
    return sum.doubleValue();
  }

  static ExactSum sumOf(List<Double> t) {
    ExactSum s = new ExactSum();
    t.forEach(s::add);
    return s;
  }

  @Test
  void equalsTheExactSumWhateverTheOrderAndSharding() {
    List<Double> t = terms(1);
    double expected = exactReference(t);
    assertEquals(expected, sumOf(t).value(), Math.ulp(expected));
    double first = sumOf(t).value();
    Random r = new Random(2);
    for (int trial = 0; trial < 5; trial++) {
      List<Double> shuffled = new ArrayList<>(t);
      Collections.shuffle(shuffled, r);
      int shards = 1 + r.nextInt(7);
      List<ExactSum> parts = new ArrayList<>();
      for (int s = 0; s < shards; s++) {
        parts.add(new ExactSum());
      }
      for (double v : shuffled) {
        parts.get(r.nextInt(shards)).add(v);
      }
      parts.add(r.nextInt(parts.size() + 1), new ExactSum()); // an empty accumulator anywhere
      Collections.shuffle(parts, r);
      ExactSum merged = new ExactSum();
      for (ExactSum p : parts) {
        merged.merge(p);
        merged.value(); // reading the result does not change it
      }
      assertEquals(first, merged.value(), "trial " + trial + " with " + shards + " shards");
      assertEquals(sumOf(t).exact(), merged.exact());
    }
  }

  @Test
  void mergeLeavesItsArgumentUnchangedAndEmptyIsTheIdentity() {
    ExactSum a = sumOf(terms(3));
    ExactSum b = sumOf(terms(4));
    var before = b.exact();
    ExactSum left = new ExactSum();
    left.merge(a);
    assertEquals(a.exact(), left.exact());
    a.merge(b);
    assertEquals(before, b.exact());
    assertEquals(0.0, new ExactSum().value());
  }

  @Test
  void nonFiniteValuesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new ExactSum().add(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> new ExactSum().add(Double.POSITIVE_INFINITY));
  }

  @Test
  void errorStatsMergeIndependentlyOfSharding() {
    Random r = new Random(5);
    float[][] ref = new float[12][50];
    float[][] q = new float[12][50];
    for (int b = 0; b < ref.length; b++) {
      for (int i = 0; i < 50; i++) {
        ref[b][i] = (float) r.nextGaussian();
        q[b][i] = ref[b][i] + (float) (r.nextGaussian() * 0.01);
      }
    }
    TensorErrorStats whole = TensorErrorStats.empty(1);
    for (int b = 0; b < ref.length; b++) {
      whole.add(0, ref[b], q[b]);
    }
    TensorErrorStats odd = TensorErrorStats.empty(1);
    TensorErrorStats even = TensorErrorStats.empty(1);
    for (int b = ref.length - 1; b >= 0; b--) {
      (b % 2 == 0 ? even : odd).add(0, ref[b], q[b]);
    }
    TensorErrorStats merged = TensorErrorStats.empty(1).merge(odd).merge(TensorErrorStats.empty(1)).merge(even);
    assertEquals(whole.sumErrorSquared(0), merged.sumErrorSquared(0));
    assertEquals(whole.sumReferenceSquared(0), merged.sumReferenceSquared(0));
    assertEquals(whole.maxAbsError(0), merged.maxAbsError(0));
    assertEquals(whole.count(0), merged.count(0));
  }
}
