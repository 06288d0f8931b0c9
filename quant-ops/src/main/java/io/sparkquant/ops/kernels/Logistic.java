package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;
import java.util.function.DoubleUnaryOperator;

/**
 * LOGISTIC. int8 follows TFLite 2.6.2's kernels/activations.cc generic-optimized path: a 256-entry
 * lookup table built at prepare time (PopulateLookupTable) from the float function, output fixed at
 * scale 1/256, zero point -128.
 */
public final class Logistic {

  private Logistic() {}

  public static byte[] prepareInt8(float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint) {
    if (outputScale != 1f / 256) {
      throw new IllegalArgumentException("LOGISTIC int8 output scale must be 1/256, got " + outputScale);
    }
    return populateLookupTable(inputScale, inputZeroPoint, outputScale, outputZeroPoint,
        v -> 1.0f / (1.0f + (float) Math.exp(-(float) v)));
  }

  /**
   * PopulateLookupTable: {@code table[(uint8) q] = clamp(roundf(f(inputScale * (q - zp)) / outputScale) +
   * outputZeroPoint)}, every step in float as TFLite computes it.
   */
  static byte[] populateLookupTable(float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint,
      DoubleUnaryOperator transform) {
    final float inverseScale = 1 / outputScale;
    byte[] table = new byte[256];
    for (int val = Byte.MIN_VALUE; val <= Byte.MAX_VALUE; val++) {
      final float dequantized = inputScale * (val - inputZeroPoint);
      final float transformed = (float) transform.applyAsDouble(dequantized);
      final float rescaled = FixedPoint.roundHalfAwayFromZero(transformed * inverseScale);
      final int quantized = (int) (rescaled + outputZeroPoint);
      table[val & 0xFF] = (byte) KernelUtil.clamp(quantized, Byte.MIN_VALUE, Byte.MAX_VALUE);
    }
    return table;
  }

  public static void evalLookupTable(byte[] table, byte[] input, byte[] output) {
    for (int i = 0; i < input.length; i++) {
      output[i] = table[input[i] & 0xFF];
    }
  }

  public static void evalFloat(float[] input, float[] output) {
    for (int i = 0; i < input.length; i++) {
      output[i] = 1.0f / (1.0f + (float) Math.exp(-input[i]));
    }
  }
}
