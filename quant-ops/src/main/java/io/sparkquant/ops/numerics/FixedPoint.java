package io.sparkquant.ops.numerics;

/**
 * TFLite's fixed-point helpers (kernels/internal/common.h, quantization_util.cc, gemmlowp's
 * fixedpoint.h), in the default "double rounding" build. A positive {@code shift} means a left shift.
 */
public final class FixedPoint {

  private FixedPoint() {}

  /** A real multiplier as a Q0.31 {@code quantizedMultiplier} and a power-of-two {@code shift}. */
  public record QuantizedMultiplier(int quantizedMultiplier, int shift) {}

  /** Doubles at or above 2^52 in magnitude are integers; below it the fractional part of |x| is exact. */
  private static final double TWO_POW_52 = 0x1p52;

  /**
   * Round half away from zero, as TFLite's tools and std::round (TfLiteRound) do ({@code Math.round} rounds ties
   * up). Compares the fractional part of |x| with 1/2 rather than taking floor(x + 0.5), whose sum can round up
   * to the next integer: 0.49999999999999994 + 0.5 is 1.0 in double, and (2^52 + 1) + 0.5 is 2^52 + 2. NaN gives
   * 0; beyond the long range, infinities included, the result saturates, as the (long) cast does.
   */
  public static long roundHalfAwayFromZero(double x) {
    double magnitude = Math.abs(x);
    if (!(magnitude < TWO_POW_52)) { // already an integer, or NaN or infinite: the cast decides
      return (long) x;
    }
    double whole = Math.floor(magnitude);
    double rounded = magnitude - whole >= 0.5 ? whole + 1 : whole;
    return (long) (x < 0 ? -rounded : rounded);
  }

  /**
   * std::round on a float argument (roundf): half away from zero, with the float's own value. Exact for
   * every float because floor(|x| + 0.5) in double has no rounding error for |x| < 2^52.
   */
  public static int roundHalfAwayFromZero(float x) {
    double d = x;
    return (int) (d < 0 ? -Math.floor(-d + 0.5) : Math.floor(d + 0.5));
  }

  /**
   * quantization_util.cc QuantizeMultiplier: {@code realMultiplier = q * 2^shift}, q in [0.5, 1) as Q0.31.
   */
  public static QuantizedMultiplier quantizeMultiplier(double realMultiplier) {
    if (!Double.isFinite(realMultiplier)) {
      throw new IllegalArgumentException("real multiplier must be finite, got " + realMultiplier);
    }
    if (realMultiplier == 0.0) {
      return new QuantizedMultiplier(0, 0);
    }
    int exponent = Math.getExponent(realMultiplier) + 1; // frexp: m = q * 2^exponent, q in [0.5, 1)
    if (exponent < Double.MIN_EXPONENT) { // subnormal: far below 2^-31, flushed below anyway
      return new QuantizedMultiplier(0, 0);
    }
    double q = realMultiplier / Math.scalb(1.0, exponent);
    long qFixed = roundHalfAwayFromZero(q * (1L << 31));
    if (qFixed == (1L << 31)) { // q rounded to 1.0: renormalise to 0.5, one more shift
      qFixed /= 2;
      exponent++;
    }
    if (exponent < -31) { // every bit would be shifted out: TFLite flushes to (0, 0)
      return new QuantizedMultiplier(0, 0);
    }
    return new QuantizedMultiplier((int) qFixed, exponent);
  }

  /** QuantizeMultiplierSmallerThanOneExp: as {@link #quantizeMultiplier} but requires a multiplier below 1. */
  public static QuantizedMultiplier quantizeMultiplierSmallerThanOne(double realMultiplier) {
    if (!(realMultiplier < 1.0 && realMultiplier > 0.0)) {
      throw new IllegalArgumentException("multiplier must be in (0, 1), got " + realMultiplier);
    }
    QuantizedMultiplier qm = quantizeMultiplier(realMultiplier);
    if (qm.shift() > 0) {
      throw new IllegalArgumentException("multiplier " + realMultiplier + " rounds to 1.0");
    }
    return qm;
  }

  /** gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating the one overflow. */
  public static int saturatingRoundingDoublingHighMul(int a, int b) {
    if (a == b && a == Integer.MIN_VALUE) { // the only overflowing case: (-1) * (-1) = +1 is not representable
      return Integer.MAX_VALUE;
    }
    long ab = (long) a * b;
    long nudge = ab >= 0 ? (1L << 30) : (1 - (1L << 30));
    return (int) ((ab + nudge) / (1L << 31)); // Java division truncates toward zero, as C++ does
  }

  /** gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero; 0 <= exponent <= 31. */
  public static int roundingDivideByPot(int x, int exponent) {
    if (exponent < 0 || exponent > 31) {
      throw new IllegalArgumentException("exponent must be in [0, 31], got " + exponent);
    }
    int mask = (int) ((1L << exponent) - 1);
    int remainder = x & mask;
    int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
  }

  /** common.h MultiplyByQuantizedMultiplier (int32 input): x * qm * 2^shift / 2^31 with double rounding. */
  public static int multiplyByQuantizedMultiplier(int x, int quantizedMultiplier, int shift) {
    int leftShift = shift > 0 ? shift : 0;
    int rightShift = shift > 0 ? 0 : -shift;
    return roundingDivideByPot(saturatingRoundingDoublingHighMul(x * (1 << leftShift), quantizedMultiplier),
        rightShift);
  }

  /** MultiplyByQuantizedMultiplierSmallerThanOneExp: shift must be <= 0 (a right shift). */
  public static int multiplyByQuantizedMultiplierSmallerThanOneExp(int x, int quantizedMultiplier, int shift) {
    return roundingDivideByPot(saturatingRoundingDoublingHighMul(x, quantizedMultiplier), -shift);
  }

  /**
   * common.h MultiplyByQuantizedMultiplier for an int64 accumulator (16x8 kernels): the multiplier is
   * reduced to 16 bits and applied with a single rounding. Valid for |x| < 2^47, shift in [-31, 7].
   */
  public static int multiplyByQuantizedMultiplier(long x, int quantizedMultiplier, int shift) {
    int reducedMultiplier = quantizedMultiplier < 0x7FFF0000 ? ((quantizedMultiplier + (1 << 15)) >> 16) : 0x7FFF;
    int totalShift = 15 - shift;
    long y = x * reducedMultiplier + (1L << (totalShift - 1));
    return (int) (y >> totalShift);
  }

  /**
   * ruy's MultiplyByQuantizedMultiplier (and TFLITE_SINGLE_ROUNDING builds): {@code x * qm * 2^shift / 2^31}
   * with one rounding, ties toward +infinity. TFLite 2.6.2 on x86 applies int8 CONV_2D and FULLY_CONNECTED
   * output multipliers inside ruy's GEMM this way; its own kernels (depthwise, ADD, requantize) use
   * {@link #multiplyByQuantizedMultiplier(int, int, int)}. The two differ by one when the first of the
   * double rounding's two steps creates a tie.
   */
  public static int multiplyByQuantizedMultiplierSingleRounding(int x, int quantizedMultiplier, int shift) {
    int totalShift = 31 - shift;
    long round = 1L << (totalShift - 1);
    return (int) (((long) x * quantizedMultiplier + round) >> totalShift);
  }
}
