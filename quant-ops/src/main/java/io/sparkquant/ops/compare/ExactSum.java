package io.sparkquant.ops.compare;

import java.io.Serializable;
import java.math.BigInteger;

/**
 * The exact sum of finite doubles, independent of the order of additions and merges (a "superaccumulator":
 * one long per binary exponent holds the sum of the significands with that exponent). Floating-point sums
 * depend on the order of terms, so a sum merged over Spark partitions would change with the partitioning;
 * this one does not, and {@link #value()} is the exact sum rounded once to a double.
 *
 * <p>Mergeable statistics contract (STYLE.md section 4): a new instance is the empty sum; {@link #add} and
 * {@link #merge} are associative and commutative; merge mutates only its receiver; {@link #value()} is pure.
 */
public final class ExactSum implements Serializable {

  private static final long serialVersionUID = 1L;
  /** Bins 0..2045 hold significands of exponent bin - 1074; 64 more bins take carries. */
  private static final int BINS = 2046 + 64;
  /** A bin holds at most 2^62 in magnitude after normalizing; adding 2^53-sized terms 512 times stays below 2^63. */
  private static final int ADDS_BEFORE_NORMALIZE = 512;
  private static final int CARRY_BITS = 32;

  private final long[] bins = new long[BINS];
  private int addsSinceNormalize;

  /** Adds a finite value; NaN or infinity is an error (the caller names the tensor). */
  public void add(double x) {
    long bits = Double.doubleToRawLongBits(x);
    int biased = (int) ((bits >>> 52) & 0x7ff);
    if (biased == 0x7ff) {
      throw new IllegalArgumentException("cannot sum a non-finite value: " + x);
    }
    long significand = bits & ((1L << 52) - 1);
    if (significand == 0 && biased == 0) {
      return; // +0 or -0
    }
    int bin;
    if (biased == 0) { // subnormal: significand * 2^-1074
      bin = 0;
    } else {
      significand |= 1L << 52;
      bin = biased - 1; // exponent biased - 1075 = bin - 1074
    }
    bins[bin] += bits < 0 ? -significand : significand;
    if (++addsSinceNormalize >= ADDS_BEFORE_NORMALIZE) {
      normalize();
    }
  }

  /** Adds {@code other}'s sum into this one; {@code other} is not modified. */
  public void merge(ExactSum other) {
    normalize();
    long[] theirs = other.bins.clone();
    normalize(theirs);
    for (int i = 0; i < BINS; i++) {
      bins[i] += theirs[i];
    }
    normalize();
  }

  /** The exact sum, rounded to a double (the same double whatever the order of adds and merges). */
  public double value() {
    BigInteger total = exact();
    if (total.signum() == 0) {
      return 0.0;
    }
    int shift = Math.max(0, total.bitLength() - 62);
    long top = total.shiftRight(shift).longValue(); // floor: deterministic, at most one ulp from the exact sum
    return Math.scalb((double) top, shift - 1074);
  }

  /** The exact sum as an integer multiple of 2^-1074. */
  BigInteger exact() {
    BigInteger total = BigInteger.ZERO;
    for (int i = BINS - 1; i >= 0; i--) {
      if (bins[i] != 0) {
        total = total.add(BigInteger.valueOf(bins[i]).shiftLeft(i));
      }
    }
    return total;
  }

  private void normalize() {
    normalize(bins);
    addsSinceNormalize = 0;
  }

  /** Moves everything above 2^32 of bin i into bin i + 32 (same value), ascending so carries settle. */
  private static void normalize(long[] b) {
    for (int i = 0; i < BINS - CARRY_BITS; i++) {
      long carry = b[i] >> CARRY_BITS;
      if (carry != 0) {
        b[i] -= carry << CARRY_BITS;
        b[i + CARRY_BITS] += carry;
      }
    }
  }
}
