package io.sparkquant.ops.numerics;

/**
 * Per-tensor affine parameters, {@code real = scale * (q - zeroPoint)}, and the one place where they are
 * chosen from a range (QUANT-SPEC.md, "Choosing parameters").
 */
public record QuantParams(float scale, int zeroPoint) {

  /**
   * A range whose width is below this is degenerate (an all-zero tensor): the rule is to use this as
   * the scale with the zero point at the range's position, instead of a silent scale of 1.
   */
  public static final float MIN_SCALE = 1e-8f;

  /** int8 asymmetric activation parameters for an observed [min, max]; the range is extended to hold 0. */
  public static QuantParams int8Activation(float min, float max) {
    return asymmetric(min, max, -128, 127);
  }

  /** int16 symmetric activation parameters (16x8 mode): zero point 0, scale = max|x| / 32767. */
  public static QuantParams int16Activation(float min, float max) {
    checkRange(min, max);
    float absMax = Math.max(Math.abs(min), Math.abs(max));
    return new QuantParams(Math.max(absMax / 32767f, MIN_SCALE), 0);
  }

  /** Symmetric int8 weight scale for one channel: max|w| / 127, zero point 0. */
  public static float int8WeightScale(float absMax) {
    if (!Float.isFinite(absMax) || absMax < 0) {
      throw new IllegalArgumentException("weight magnitude must be finite and >= 0, got " + absMax);
    }
    return Math.max(absMax / 127f, MIN_SCALE);
  }

  private static QuantParams asymmetric(float min, float max, int qmin, int qmax) {
    checkRange(min, max);
    float lo = Math.min(min, 0f);
    float hi = Math.max(max, 0f);
    float scale = Math.max((hi - lo) / (qmax - qmin), MIN_SCALE);
    long zeroPoint = FixedPoint.roundHalfAwayFromZero(qmin - lo / (double) scale);
    return new QuantParams(scale, (int) Math.max(qmin, Math.min(qmax, zeroPoint)));
  }

  private static void checkRange(float min, float max) {
    if (!Float.isFinite(min) || !Float.isFinite(max) || min > max) {
      throw new IllegalArgumentException("range must be finite with min <= max, got [" + min + ", " + max + "]");
    }
  }

  /**
   * Quantizes one value as TFLite 2.6.2's QUANTIZE op does on x86: {@code clamp(round(x / (double) scale) +
   * zeroPoint)}, half away from zero. The runtime divides in double (optimized_ops::AffineQuantize), not in
   * float as reference_ops does; QuantParamsTest checks this against the runtime, int8 and int16, at exact
   * rounding ties and one ulp either side of them.
   */
  public int quantize(float x, int qmin, int qmax) {
    long q = FixedPoint.roundHalfAwayFromZero(x / (double) scale) + zeroPoint;
    return (int) Math.max(qmin, Math.min(qmax, q));
  }

  public float dequantize(int q) {
    return scale * (q - zeroPoint);
  }
}
