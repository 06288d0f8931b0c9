package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * HARD_SWISH, {@code x * relu6(x + 3) / 6} (activations.cc HardSwishPrepare/HardSwishEval,
 * reference_ops::HardSwish). int8 works in 16-bit fixed point: the input is moved to a "hires" scale
 * ({@code inputScale / 128}), a "reluish" factor in [0, 1] is made from it on the scale where 3.0 is 2^15, and the
 * product is rescaled to the output. Every intermediate is an int16 as in TFLite, so the casts below are part of the
 * arithmetic, not tidying.
 */
public final class HardSwish {

  private HardSwish() {}

  /** HardSwishParams: the two int16 fixed-point multipliers and their power-of-two exponents. */
  public record QuantizedParams(int inputZeroPoint, int outputZeroPoint, short reluishMultiplier,
      int reluishExponent, short outputMultiplier, int outputExponent) {}

  /**
   * HardSwishPrepare: the real multipliers are float quotients (as TFLite computes them) widened to double for
   * QuantizeMultiplier, then rounded to 16 bits. TFLite refuses an output multiplier of 1 or more (exponent above 0).
   */
  public static QuantizedParams prepare(float inputScale, int inputZeroPoint, float outputScale,
      int outputZeroPoint) {
    final float hiresInputScale = (1.0f / 128.0f) * inputScale;
    final float reluishScale = 3.0f / 32768.0f;
    FixedPoint.QuantizedMultiplier out = FixedPoint.quantizeMultiplier((double) (hiresInputScale / outputScale));
    if (out.shift() > 0) {
      throw new IllegalArgumentException("HARD_SWISH needs input scale / 128 / output scale below 1, got input scale "
          + inputScale + " and output scale " + outputScale);
    }
    FixedPoint.QuantizedMultiplier reluish = FixedPoint.quantizeMultiplier((double) (hiresInputScale / reluishScale));
    return new QuantizedParams(inputZeroPoint, outputZeroPoint, downScaleToInt16(reluish.quantizedMultiplier()),
        reluish.shift(), downScaleToInt16(out.quantizedMultiplier()), out.shift());
  }

  /** common.h DownScaleInt32ToInt16Multiplier: round a Q0.31 multiplier to Q0.15, saturating at 2^15 - 1. */
  static short downScaleToInt16(int multiplier) {
    final int roundingOffset = 1 << 15;
    if (multiplier >= Integer.MAX_VALUE - roundingOffset) {
      return Short.MAX_VALUE;
    }
    return (short) ((multiplier + roundingOffset) >> 16);
  }

  public static void evalInt8(QuantizedParams p, byte[] input, byte[] output) {
    for (int i = 0; i < input.length; i++) {
      output[i] = (byte) quantized(p, input[i], Byte.MIN_VALUE, Byte.MAX_VALUE);
    }
  }

  private static int quantized(QuantizedParams p, int q, int qmin, int qmax) {
    final short inputValue = (short) (q - p.inputZeroPoint());
    final short hires = (short) (inputValue * (1 << 7));
    // the value for x >= 3, on the output scale before its final right shift
    final short preshiftOutput = saturatingRoundingDoublingHighMul(hires, p.outputMultiplier());
    // the "reluish" factor: x rescaled from [-3, 3] to [-1, 1] with saturation, then to [0, 1]
    short reluish = hires;
    if (p.reluishExponent() > 0) {
      // one bit of the left shift is kept for after the multiply, so saturation here cannot reach the result
      reluish = saturatingLeftShift(reluish, p.reluishExponent() - 1);
    }
    reluish = saturatingRoundingDoublingHighMul(reluish, p.reluishMultiplier());
    if (p.reluishExponent() > 0) {
      reluish = saturatingLeftShift(reluish, 1);
    }
    if (p.reluishExponent() < 0) {
      reluish = roundingDivideByPot(reluish, -p.reluishExponent());
    }
    reluish = (short) ((reluish + (1 << 15)) >> 1);
    // truncating (not rounding) multiply: it cancels the bias of the rounding multiplies above
    final short preshift = saturatingDoublingHighMul(reluish, preshiftOutput);
    short out = roundingDivideByPot(preshift, -p.outputExponent());
    out = (short) (out + p.outputZeroPoint());
    return KernelUtil.clamp(out, qmin, qmax);
  }

  /** gemmlowp SaturatingRoundingDoublingHighMul on int16: round(a * b / 2^15), saturating the one overflow. */
  static short saturatingRoundingDoublingHighMul(short a, short b) {
    if (a == b && a == Short.MIN_VALUE) {
      return Short.MAX_VALUE;
    }
    int ab = a * b;
    int nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (short) ((ab + nudge) / (1 << 15)); // Java division truncates toward zero, as C++ does
  }

  /** hard_swish.h SaturatingDoublingHighMul: a * b / 2^15 truncated toward zero, saturating the one overflow. */
  static short saturatingDoublingHighMul(short a, short b) {
    if (a == b && a == Short.MIN_VALUE) {
      return Short.MAX_VALUE;
    }
    return (short) ((a * b) / (1 << 15));
  }

  /** hard_swish.h SaturatingLeftShift: value * 2^amount clamped to int16. */
  static short saturatingLeftShift(short value, int amount) {
    long result = (long) value * (1L << amount);
    return (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, result));
  }

  /**
   * gemmlowp RoundingDivideByPOT instantiated for int16: the mask and threshold are int16 too, which matters only
   * for exponents of 16 and more (scales TFLite accepts but no real model has).
   */
  static short roundingDivideByPot(short x, int exponent) {
    final short mask = (short) ((1L << exponent) - 1);
    final short remainder = (short) (x & mask);
    final short threshold = (short) ((mask >> 1) + (x < 0 ? 1 : 0));
    return (short) ((short) (x >> exponent) + (remainder > threshold ? 1 : 0));
  }

  /** Float: {@code x * min(6, max(0, x + 3)) / 6}. */
  public static void evalFloat(float[] input, float[] output) {
    for (int i = 0; i < input.length; i++) {
      float x = input[i];
      output[i] = x * Math.min(6f, Math.max(0f, x + 3f)) / 6f;
    }
  }
}
