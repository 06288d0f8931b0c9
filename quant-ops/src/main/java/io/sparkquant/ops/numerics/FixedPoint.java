package io.sparkquant.ops.numerics;

/**
 * TFLite's fixed-point helpers (kernels/internal/common.h, quantization_util.cc), in the default
 * "double rounding" build. A positive {@code shift} means a left shift.
 */
public final class FixedPoint {

  private FixedPoint() {}

  /** A real multiplier as a Q0.31 {@code quantizedMultiplier} and a power-of-two {@code shift}. */
  public record QuantizedMultiplier(int quantizedMultiplier, int shift) {}

  /** Round half away from zero, as TFLite's tools do ({@code Math.round} rounds ties up). */
  public static long roundHalfAwayFromZero(double x) {
    return (long) (x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5));
  }

  public static QuantizedMultiplier quantizeMultiplier(double realMultiplier) {
    if (realMultiplier == 0.0) {
      return new QuantizedMultiplier(0, 0);
    }
    int exponent = Math.getExponent(realMultiplier) + 1; // frexp: m = q * 2^exponent, q in [0.5, 1)
    double q = realMultiplier / Math.scalb(1.0, exponent);
    long qFixed = roundHalfAwayFromZero(q * (1L << 31));
    if (qFixed == (1L << 31)) { // q rounded up to 1.0: renormalise
      qFixed /= 2;
      exponent++;
    }
    if (exponent < -31) { // below the smallest representable shift: flush to zero
      return new QuantizedMultiplier(0, 0);
    }
    return new QuantizedMultiplier((int) qFixed, exponent);
  }

  public static int saturatingRoundingDoublingHighMul(int a, int b) {
    if (a == b && a == Integer.MIN_VALUE) { // the only overflowing case
      return Integer.MAX_VALUE;
    }
    long ab = (long) a * b;
    long nudge = ab >= 0 ? (1L << 30) : (1 - (1L << 30));
    return (int) ((ab + nudge) / (1L << 31)); // Java division truncates toward zero, as C++ does
  }

  public static int roundingDivideByPot(int x, int exponent) {
    int mask = (1 << exponent) - 1;
    int remainder = x & mask;
    int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
  }

  public static int multiplyByQuantizedMultiplier(int x, int quantizedMultiplier, int shift) {
    int leftShift = Math.max(shift, 0);
    int rightShift = Math.max(-shift, 0);
    return roundingDivideByPot(saturatingRoundingDoublingHighMul(x * (1 << leftShift), quantizedMultiplier),
        rightShift);
  }
}
