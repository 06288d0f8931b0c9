package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * QUANTIZE (reference/quantize.h AffineQuantize, reference/requantize.h, kernels/quantize.cc):
 * float to int8/int16, or requantization between integer types with a fixed-point multiplier.
 */
public final class Quantize {

  private Quantize() {}

  /**
   * Float to integer: {@code clamp(round(x / scale) + zeroPoint)}, dividing in double as TFLite 2.6.2's
   * optimized_ops::AffineQuantize does (its {@code scale} is a double), for int8 and int16 outputs alike;
   * reference_ops divides by the float scale, which rounds differently next to ties. QuantizeTest pins
   * this against the runtime with inputs at exact ties and one float step either side.
   */
  public static void affineQuantize(float[] input, float scale, int zeroPoint, int qmin, int qmax, Object output) {
    final double scaleDouble = scale;
    for (int i = 0; i < input.length; i++) {
      final float val = input[i];
      final long rounded = FixedPoint.roundHalfAwayFromZero(val / scaleDouble);
      final long unclamped = clampToInt(rounded) + zeroPoint;
      final int clamped = (int) Math.min(Math.max(unclamped, qmin), qmax);
      store(output, i, clamped);
    }
  }

  /** static_cast<int32_t> of an out-of-range double is undefined in C; x86 gives INT_MIN, as here. */
  private static long clampToInt(long v) {
    return v > Integer.MAX_VALUE || v < Integer.MIN_VALUE ? Integer.MIN_VALUE : v;
  }

  /** Requantize multiplier for integer input: {@code inputScale / outputScale} in double. */
  public static FixedPoint.QuantizedMultiplier prepareRequantize(float inputScale, float outputScale) {
    return FixedPoint.quantizeMultiplier((double) inputScale / (double) outputScale);
  }

  /** Integer to integer: {@code clamp(MBQM(q - inputZeroPoint) + outputZeroPoint)}. */
  public static void requantize(int[] input, int inputZeroPoint, FixedPoint.QuantizedMultiplier multiplier,
      int outputZeroPoint, int qmin, int qmax, Object output) {
    for (int i = 0; i < input.length; i++) {
      int v = FixedPoint.multiplyByQuantizedMultiplier(input[i] - inputZeroPoint, multiplier.quantizedMultiplier(),
          multiplier.shift()) + outputZeroPoint;
      store(output, i, KernelUtil.clamp(v, qmin, qmax));
    }
  }

  private static void store(Object output, int i, int v) {
    if (output instanceof byte[] b) {
      b[i] = (byte) v;
    } else if (output instanceof short[] s) {
      s[i] = (short) v;
    } else {
      throw new IllegalArgumentException("quantized output must be byte[] or short[], got " + output.getClass());
    }
  }
}
