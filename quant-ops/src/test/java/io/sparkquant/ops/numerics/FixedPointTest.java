package io.sparkquant.ops.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * FixedPoint against independent exact arithmetic (BigInteger/BigDecimal formulations of what each
 * gemmlowp/TFLite helper computes) and its documented edge cases. Kernel-level exactness against the
 * TFLite runtime is in the kernels tests.
 */
class FixedPointTest {

  private static final long SEED = 20261127L;

  /** SRDHM is round-half-up of a * b / 2^31: floor((ab + 2^30) / 2^31), saturating MIN * MIN. */
  private static int srdhmExact(int a, int b) {
    BigInteger ab = BigInteger.valueOf(a).multiply(BigInteger.valueOf(b));
    BigInteger r = ab.add(BigInteger.ONE.shiftLeft(30)).shiftRight(31); // shiftRight floors
    return r.min(BigInteger.valueOf(Integer.MAX_VALUE)).intValueExact();
  }

  /** RDBPOT is x / 2^e rounded to nearest, ties away from zero. */
  private static int rdbpotExact(int x, int e) {
    return new BigDecimal(x).divide(new BigDecimal(BigInteger.ONE.shiftLeft(e)))
        .setScale(0, RoundingMode.HALF_UP).intValueExact();
  }

  @Test
  void saturatingRoundingDoublingHighMulMatchesExactArithmetic() {
    SplittableRandom rnd = new SplittableRandom(SEED);
    int[] special = {0, 1, -1, 2, -2, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE + 1, 1 << 30,
        -(1 << 30), (1 << 30) + 1, 46341, -46341};
    for (int a : special) {
      for (int b : special) {
        assertEquals(srdhmExact(a, b), FixedPoint.saturatingRoundingDoublingHighMul(a, b), a + " * " + b);
      }
    }
    for (int i = 0; i < 20000; i++) {
      int a = rnd.nextInt();
      int b = rnd.nextInt();
      assertEquals(srdhmExact(a, b), FixedPoint.saturatingRoundingDoublingHighMul(a, b), a + " * " + b);
    }
    // the one overflowing pair saturates instead of wrapping to MIN_VALUE
    assertEquals(Integer.MAX_VALUE,
        FixedPoint.saturatingRoundingDoublingHighMul(Integer.MIN_VALUE, Integer.MIN_VALUE));
  }

  @Test
  void roundingDivideByPotRoundsTiesAwayFromZeroIncludingNegatives() {
    SplittableRandom rnd = new SplittableRandom(SEED + 1);
    for (int e = 0; e <= 31; e++) {
      for (int x : new int[] {0, 1, -1, 2, -2, 3, -3, 5, -5, 6, -6, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
        assertEquals(rdbpotExact(x, e), FixedPoint.roundingDivideByPot(x, e), x + " >> " + e);
      }
      for (int i = 0; i < 500; i++) {
        int x = rnd.nextInt();
        assertEquals(rdbpotExact(x, e), FixedPoint.roundingDivideByPot(x, e), x + " >> " + e);
        if (e > 0) { // exact ties: +-(k + 1/2) * 2^e
          int tie = (int) Math.max(Integer.MIN_VALUE / 2, Math.min(Integer.MAX_VALUE / 2,
              ((long) rnd.nextInt(-1000, 1000) << e) + (1L << (e - 1))));
          assertEquals(rdbpotExact(tie, e), FixedPoint.roundingDivideByPot(tie, e), "tie " + tie + " >> " + e);
          assertEquals(rdbpotExact(-tie, e), FixedPoint.roundingDivideByPot(-tie, e), "tie " + -tie + " >> " + e);
        }
      }
    }
    assertThrows(IllegalArgumentException.class, () -> FixedPoint.roundingDivideByPot(1, 32));
    assertThrows(IllegalArgumentException.class, () -> FixedPoint.roundingDivideByPot(1, -1));
  }

  @Test
  void quantizeMultiplierRepresentsTheRealMultiplier() {
    SplittableRandom rnd = new SplittableRandom(SEED + 2);
    for (int i = 0; i < 20000; i++) {
      double m = Math.scalb(0.5 + rnd.nextDouble() * 0.5, rnd.nextInt(-30, 8));
      FixedPoint.QuantizedMultiplier qm = FixedPoint.quantizeMultiplier(m);
      assertTrue(qm.quantizedMultiplier() >= (1 << 30), "Q0.31 mantissa in [0.5, 1): " + qm);
      double back = qm.quantizedMultiplier() * Math.scalb(1.0, qm.shift() - 31);
      // rounding the mantissa to 31 bits: |error| <= 2^-32 relative to 2^shift
      assertTrue(Math.abs(back - m) <= Math.scalb(1.0, qm.shift() - 32), m + " -> " + qm);
    }
  }

  @Test
  void quantizeMultiplierEdgeCases() {
    assertEquals(new FixedPoint.QuantizedMultiplier(0, 0), FixedPoint.quantizeMultiplier(0.0));
    // q * 2^31 rounds up to 2^31: renormalised to 2^30 with one more left shift
    double justBelowOne = 1.0 - Math.scalb(1.0, -40);
    assertEquals(new FixedPoint.QuantizedMultiplier(1 << 30, 1), FixedPoint.quantizeMultiplier(justBelowOne));
    assertEquals(new FixedPoint.QuantizedMultiplier(1 << 30, -1), // 0.25 = 0.5 * 2^-1
        FixedPoint.quantizeMultiplier(0.25 - Math.scalb(1.0, -45)));
    // shift -31 is the smallest kept; below it TFLite flushes to (0, 0)
    assertEquals(new FixedPoint.QuantizedMultiplier(1 << 30, -31), FixedPoint.quantizeMultiplier(Math.scalb(1.0, -32)));
    assertEquals(new FixedPoint.QuantizedMultiplier(0, 0), FixedPoint.quantizeMultiplier(Math.scalb(1.0, -33)));
    assertEquals(new FixedPoint.QuantizedMultiplier(0, 0), FixedPoint.quantizeMultiplier(Double.MIN_VALUE));
    assertThrows(IllegalArgumentException.class, () -> FixedPoint.quantizeMultiplier(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> FixedPoint.quantizeMultiplierSmallerThanOne(1.0));
  }

  @Test
  void multiplyByQuantizedMultiplierIsDoubleRounding() {
    SplittableRandom rnd = new SplittableRandom(SEED + 3);
    for (int i = 0; i < 20000; i++) {
      int x = rnd.nextInt(-(1 << 24), 1 << 24);
      int qm = rnd.nextInt(1 << 30, Integer.MAX_VALUE);
      int shift = rnd.nextInt(-31, 8);
      int left = Math.max(shift, 0);
      long shifted = (long) x << left;
      if (shifted != (int) shifted) {
        continue;
      }
      int expected = rdbpotExact(srdhmExact((int) shifted, qm), Math.max(-shift, 0));
      assertEquals(expected, FixedPoint.multiplyByQuantizedMultiplier(x, qm, shift), x + " " + qm + " " + shift);
    }
  }

  @Test
  void singleRoundingMultiplierRoundsOnceTiesUp() {
    SplittableRandom rnd = new SplittableRandom(SEED + 5);
    int differences = 0;
    for (int i = 0; i < 20000; i++) {
      int x = rnd.nextInt(-(1 << 24), 1 << 24);
      int qm = rnd.nextInt(1 << 30, Integer.MAX_VALUE);
      int shift = rnd.nextInt(-31, 4);
      BigInteger exact = BigInteger.valueOf(x).multiply(BigInteger.valueOf(qm))
          .add(BigInteger.ONE.shiftLeft(30 - shift)).shiftRight(31 - shift); // floor(x * qm / 2^(31-shift) + 1/2)
      int single = FixedPoint.multiplyByQuantizedMultiplierSingleRounding(x, qm, shift);
      assertEquals(exact.intValueExact(), single, x + " " + qm + " " + shift);
      if (single != FixedPoint.multiplyByQuantizedMultiplier(x, qm, shift)) {
        differences++;
      }
    }
    // the two roundings differ only when the first of the double rounding's steps creates a tie: rarely
    assertTrue(differences > 0 && differences < 2000, "differences: " + differences);
  }

  @Test
  void int64MultiplierUsesA16BitMultiplierAndSingleRounding() {
    SplittableRandom rnd = new SplittableRandom(SEED + 4);
    for (int i = 0; i < 20000; i++) {
      long x = rnd.nextLong(-(1L << 47), 1L << 47);
      int qm = rnd.nextInt(1 << 30, Integer.MAX_VALUE);
      int shift = rnd.nextInt(-31, 8);
      long reduced = qm < 0x7FFF0000 ? (qm + (1L << 15)) >> 16 : 0x7FFF;
      BigInteger exact = BigInteger.valueOf(x).multiply(BigInteger.valueOf(reduced))
          .add(BigInteger.ONE.shiftLeft(14 - shift)).shiftRight(15 - shift);
      if (exact.bitLength() > 31) {
        continue; // TFLite requires the scaled result to fit int32
      }
      assertEquals(exact.intValueExact(), FixedPoint.multiplyByQuantizedMultiplier(x, qm, shift));
    }
    // the multiplier's top 16 bits saturate at 0x7FFF instead of overflowing
    assertEquals(FixedPoint.multiplyByQuantizedMultiplier(1L << 20, 0x7FFF0000, 0),
        FixedPoint.multiplyByQuantizedMultiplier(1L << 20, Integer.MAX_VALUE, 0));
  }

  /** std::round's result: the exact value rounded to nearest, ties away from zero. */
  private static long roundExact(double x) {
    return new BigDecimal(x).setScale(0, RoundingMode.HALF_UP).longValueExact();
  }

  @Test
  void roundHalfAwayFromZeroIsExactNextToTies() {
    double belowHalf = Math.nextDown(0.5); // 0.49999999999999994: floor(x + 0.5) gives 1
    assertEquals(0, FixedPoint.roundHalfAwayFromZero(belowHalf));
    assertEquals(0, FixedPoint.roundHalfAwayFromZero(-belowHalf));
    assertEquals(1, FixedPoint.roundHalfAwayFromZero(0.5));
    assertEquals(-1, FixedPoint.roundHalfAwayFromZero(-0.5));
    assertEquals(0, FixedPoint.roundHalfAwayFromZero(-0.0));
    assertEquals(0, FixedPoint.roundHalfAwayFromZero(Double.MIN_VALUE));
    assertEquals(0, FixedPoint.roundHalfAwayFromZero(-Double.MIN_VALUE));
    // each tie, the doubles either side of it, from small to where the last fractional bit is 1/2
    for (long k : new long[] {0, 1, 2, 3, 1000, 123456789, (1L << 51) - 1, (1L << 52) - 1}) {
      double tie = k + 0.5;
      for (double x : new double[] {tie, Math.nextDown(tie), Math.nextUp(tie)}) {
        assertEquals(roundExact(x), FixedPoint.roundHalfAwayFromZero(x), "x = " + x);
        assertEquals(roundExact(-x), FixedPoint.roundHalfAwayFromZero(-x), "x = " + -x);
      }
    }
    // at 2^52 and above every double is an integer: unchanged, odd ones included (floor(x + 0.5) adds one)
    for (long k : new long[] {1L << 52, (1L << 52) + 1, (1L << 53) - 1, (1L << 53) + 2, (1L << 62) + (1L << 10)}) {
      assertEquals(k, FixedPoint.roundHalfAwayFromZero((double) k));
      assertEquals(-k, FixedPoint.roundHalfAwayFromZero((double) -k));
    }
    // outside the long range the result saturates; NaN gives 0, as the (long) cast does
    assertEquals(Long.MAX_VALUE, FixedPoint.roundHalfAwayFromZero(0x1p63));
    assertEquals(Long.MIN_VALUE, FixedPoint.roundHalfAwayFromZero(-0x1p63));
    assertEquals(Long.MAX_VALUE, FixedPoint.roundHalfAwayFromZero(Double.MAX_VALUE));
    assertEquals(Long.MAX_VALUE, FixedPoint.roundHalfAwayFromZero(Double.POSITIVE_INFINITY));
    assertEquals(Long.MIN_VALUE, FixedPoint.roundHalfAwayFromZero(Double.NEGATIVE_INFINITY));
    assertEquals(0, FixedPoint.roundHalfAwayFromZero(Double.NaN));
  }

  @Test
  void roundHalfAwayFromZeroMatchesExactRounding() {
    SplittableRandom rnd = new SplittableRandom(SEED + 6);
    int ties = 0;
    for (int i = 0; i < 200000; i++) {
      long k = rnd.nextLong(1L << rnd.nextInt(0, 53)); // k + 1/2 is exact: ties from 1/2 to 2^52 - 1/2
      double x = switch (i % 4) {
        case 0 -> Math.scalb(rnd.nextDouble(), rnd.nextInt(-60, 63)); // every magnitude below 2^63
        case 1 -> k + 0.5;
        case 2 -> Math.nextDown(k + 0.5);
        default -> Math.nextUp(k + 0.5);
      };
      x = rnd.nextBoolean() ? x : -x;
      ties += x - Math.floor(x) == 0.5 ? 1 : 0;
      assertEquals(roundExact(x), FixedPoint.roundHalfAwayFromZero(x), "x = " + x);
      float f = (float) x;
      if (Math.abs(f) < 0x1p31f) {
        assertEquals(roundExact(f), FixedPoint.roundHalfAwayFromZero(f), "float x = " + f);
      }
    }
    assertTrue(ties >= 40000, "exact ties: " + ties);
  }

  @Test
  void roundHalfAwayFromZeroDiffersFromMathRound() {
    assertEquals(-3, FixedPoint.roundHalfAwayFromZero(-2.5));
    assertEquals(3, FixedPoint.roundHalfAwayFromZero(2.5));
    assertEquals(-3, FixedPoint.roundHalfAwayFromZero(-2.5f));
    assertEquals(0, FixedPoint.roundHalfAwayFromZero(0.49999997f));
    assertEquals(-2, Math.round(-2.5)); // why the helper exists
  }
}
