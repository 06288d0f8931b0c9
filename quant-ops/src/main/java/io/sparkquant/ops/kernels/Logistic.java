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

  /**
   * sigmoid(i / 24) for i = 0..255 in unsigned Q0.16, each sample raised by half the error that linear
   * interpolation makes at the interval's midpoint: the table TFLite's int16 LOGISTIC and TANH interpolate.
   * Entries 0..254 were read back from the runtime (a TANH whose input lands on each table point) and all
   * match this formula; the kernels are checked against the runtime.
   */
  static final int[] SIGMOID_TABLE_UINT16 = sigmoidTable();

  private static int[] sigmoidTable() {
    int[] t = new int[256];
    for (int i = 0; i < 256; i++) {
      double f0 = 65536.0 / (1.0 + Math.exp(-i / 24.0));
      double f1 = 65536.0 / (1.0 + Math.exp(-(i + 1) / 24.0));
      double mid = 65536.0 / (1.0 + Math.exp(-(i + 0.5) / 24.0));
      t[i] = (int) Math.min(65535, FixedPoint.roundHalfAwayFromZero(f0 + (mid - (f0 + f1) / 2) / 2));
    }
    t[255] = 65535; // measured: the runtime's last entry (only ever the right end of the last interval) is 2^16 - 1
    return t;
  }

  /** int16 input rescaling: {@code q * inputMultiplier >> inputLeftShift} maps the input to units of 1 / (3 * 4096). */
  public record Int16Params(int inputMultiplier, int inputLeftShift) {}

  /**
   * activations.cc for int16 with a general (not power-of-two) input scale: {@code inputScale * 4096 * 3}
   * doubled until above 32767 / 2. Zero points must be 0 and the output scale 2^-15. Power-of-two input
   * scales that need no rescaling take TFLite's gemmlowp fixed-point path instead, which is not implemented.
   */
  public static Int16Params prepareInt16(float inputScale, float outputScale, boolean tanh) {
    if (!isPowerOfTwo(outputScale) || roundedLog2(outputScale) != -15) {
      throw new IllegalArgumentException("int16 " + (tanh ? "TANH" : "LOGISTIC") + " output scale must be 2^-15, got "
          + outputScale);
    }
    if (isPowerOfTwo(inputScale)) {
      int leftShift = 12 + roundedLog2(inputScale);
      if (leftShift == 0 || (tanh && leftShift == 1)) {
        throw new IllegalArgumentException("int16 " + (tanh ? "TANH" : "LOGISTIC") + " with the power-of-two input "
            + "scale " + inputScale + " takes TFLite's gemmlowp fixed-point path, which this interpreter does not "
            + "implement; use a calibrated (non power-of-two) input scale");
      }
    }
    double multiplier = inputScale * 4096.0 * 3.0;
    int leftShift = 0;
    while (multiplier <= 32767.0 / 2.0 && leftShift <= 30) {
      leftShift++;
      multiplier *= 2.0;
    }
    return new Int16Params((int) multiplier, leftShift);
  }

  /** CheckedLog2: log2 of the scale within 1e-3 of an integer. */
  static boolean isPowerOfTwo(float scale) {
    return Math.abs(log2(scale) - roundedLog2(scale)) < 1e-3f;
  }

  /** The integer nearest to log2 of the scale, as CheckedLog2 rounds it. */
  static int roundedLog2(float scale) {
    return (int) FixedPoint.roundHalfAwayFromZero(log2(scale));
  }

  private static float log2(float scale) {
    return (float) Math.log(scale) * (1.0f / (float) Math.log(2.0));
  }

  static int rescaleInt16(Int16Params p, short q) {
    int round = p.inputLeftShift() > 0 ? 1 << (p.inputLeftShift() - 1) : 0;
    return (q * p.inputMultiplier() + round) >> p.inputLeftShift();
  }

  /** reference_integer_ops::Logistic (int16): interpolate sigmoid on |x|, mirror for x < 0, Q0.15 out. */
  public static void evalInt16(Int16Params p, short[] input, short[] output) {
    for (int i = 0; i < input.length; i++) {
      int inputData = rescaleInt16(p, input[i]);
      int absInputData = Math.abs(inputData);
      int uh = absInputData >>> 9;
      int result;
      if (uh >= 255) {
        result = 0x7FFF << 10;
      } else {
        int ua = SIGMOID_TABLE_UINT16[uh];
        int ub = SIGMOID_TABLE_UINT16[uh + 1];
        int ut = absInputData & 0x1ff;
        result = (ua << 9) + ut * (ub - ua);
      }
      result = inputData >= 0 ? result + (1 << 9) : (1 << (16 + 9)) - result + (1 << 9) - 1;
      output[i] = (short) (result >>> 10);
    }
  }
}
