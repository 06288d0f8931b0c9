package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * SOFTMAX over the last dimension. int8 follows TFLite 2.6.2's kernels/activations.cc, which for int8
 * (and uint8) always takes optimized_ops::Softmax with a 256-entry float table of
 * {@code expf(-inputScale * beta * d)} (PopulateSoftmaxLookupTable), not the gemmlowp fixed-point
 * exp path of reference_integer_ops: sums and the final scaling are float, the output
 * {@code roundf(table[d] / (sum * outputScale)) + outputZeroPoint}, clamped.
 */
public final class Softmax {

  private Softmax() {}

  /** {@code table[255 - d] = expf(-inputScale * beta * d)} for d = 0..255, plus the output parameters. */
  public record LutParams(float[] table, float outputScale, int outputZeroPoint) {}

  public static LutParams prepareInt8(float inputScale, float beta, float outputScale, int outputZeroPoint) {
    final float scale = -inputScale * beta;
    final int maxUint8 = 255;
    float[] table = new float[256];
    for (int val = 0; val <= maxUint8; val++) {
      table[maxUint8 - val] = expf(scale * val);
    }
    return new LutParams(table, outputScale, outputZeroPoint);
  }

  /** C's expf through a correctly rounded double exp (glibc's expf is within 0.502 ulp). */
  static float expf(float x) {
    return (float) Math.exp(x);
  }

  public static void evalInt8(LutParams p, int outerSize, int depth, byte[] input, byte[] output) {
    final float[] table = p.table();
    final int zeroPoint = p.outputZeroPoint();
    for (int i = 0; i < outerSize; i++) {
      final int base = i * depth;
      int maxVal = Byte.MIN_VALUE;
      for (int j = 0; j < depth; j++) {
        maxVal = Math.max(maxVal, input[base + j]);
      }
      final int tableOffset = 255 - maxVal; // table_offset[x] = table[255 - max + x]
      float sumExp = 0f;
      for (int j = 0; j < depth; j++) {
        sumExp += table[tableOffset + input[base + j]];
      }
      final float invSumExp = 1.0f / (sumExp * p.outputScale());
      for (int j = 0; j < depth; j++) {
        final float probRescaled = table[tableOffset + input[base + j]] * invSumExp;
        final int probQuantized = FixedPoint.roundHalfAwayFromZero(probRescaled)
            + zeroPoint;
        output[base + j] = (byte) KernelUtil.clamp(probQuantized, Byte.MIN_VALUE, Byte.MAX_VALUE);
      }
    }
  }

  public static void evalFloat(float beta, int outerSize, int depth, float[] input, float[] output) {
    for (int i = 0; i < outerSize; i++) {
      final int base = i * depth;
      float max = Float.NEGATIVE_INFINITY;
      for (int j = 0; j < depth; j++) {
        max = Math.max(max, input[base + j]);
      }
      float sum = 0f;
      for (int j = 0; j < depth; j++) {
        float e = expf((input[base + j] - max) * beta);
        output[base + j] = e;
        sum += e;
      }
      final float inv = 1.0f / sum;
      for (int j = 0; j < depth; j++) {
        output[base + j] *= inv;
      }
    }
  }

  /**
   * int16 SOFTMAX parameters (activations.cc SoftmaxPrepare): the input difference is rescaled so that
   * [-65535, 0] covers [-10, 0] ({@code inputScale * beta / (10 / 65535)}), and two 513-entry int16 tables
   * interpolate exp(x) on [-10, 0] and 1 / (1 + x) on [0, 1].
   */
  public record Int16Params(int inputMultiplier, int inputLeftShift, short[] expLut, short[] oneOverOnePlusXLut) {}

  private static final int LUT_SIZE = 513;

  public static Int16Params prepareInt16(float inputScale, float beta) {
    double inputScaleBetaRescale = (inputScale * beta) / (10.0 / 65535.0); // float product, double division
    FixedPoint.QuantizedMultiplier qm = FixedPoint.quantizeMultiplier(inputScaleBetaRescale);
    return new Int16Params(qm.quantizedMultiplier(), qm.shift(), genLut(Math::exp, -10.0, 0.0),
        genLut(v -> 1.0 / (1.0 + v), 0.0, 1.0));
  }

  /** common.h gen_lut: samples corrected by half the midpoint interpolation error, saturated to int16. */
  static short[] genLut(java.util.function.DoubleUnaryOperator func, double min, double max) {
    final int num = LUT_SIZE;
    short[] table = new short[num];
    double step = (max - min) / (num - 1);
    double halfStep = step / 2.0;
    for (int i = 0; i < num - 1; i++) {
      double sampleVal = FixedPoint.roundHalfAwayFromZero(func.applyAsDouble(min + i * step) * 32768.0);
      double midpointInterpVal = FixedPoint.roundHalfAwayFromZero((func.applyAsDouble(min + (i + 1) * step) * 32768.0
          + FixedPoint.roundHalfAwayFromZero(func.applyAsDouble(min + i * step) * 32768.0)) / 2.0);
      double midpointVal = FixedPoint.roundHalfAwayFromZero(func.applyAsDouble(min + i * step + halfStep) * 32768.0);
      double midpointErr = midpointInterpVal - midpointVal;
      double bias = FixedPoint.roundHalfAwayFromZero(midpointErr / 2.0);
      table[i] = (short) Math.min(Math.max(sampleVal - bias, -32768.0), 32767.0);
    }
    table[num - 1] = (short) Math.min(Math.max(
        FixedPoint.roundHalfAwayFromZero(func.applyAsDouble(max) * 32768.0), -32768.0), 32767.0);
    return table;
  }

  /** generic_int16_table_lookup: base from the top 9 bits, linear interpolation on the low 7. */
  static int lutLookup(int value, short[] lut) {
    int index = 256 + (value >> 7);
    int offset = value & 0x7f;
    int base = lut[index];
    int slope = lut[index + 1] - lut[index];
    int delta = (slope * offset + 64) >> 7;
    return (short) (base + delta);
  }

  /** reference_ops::SoftmaxInt16 (output scale 1/32768, zero point 0). */
  public static void evalInt16(Int16Params p, int outerSize, int depth, short[] input, short[] output) {
    for (int i = 0; i < outerSize; i++) {
      final int base = i * depth;
      int maxInRow = Short.MIN_VALUE;
      for (int c = 0; c < depth; c++) {
        maxInRow = Math.max(maxInRow, input[base + c]);
      }
      int sumOfExps = 0; // Q16.15
      for (int c = 0; c < depth; c++) {
        int inputDiff = input[base + c] - maxInRow;
        int scaledDiff = FixedPoint.multiplyByQuantizedMultiplier(inputDiff, p.inputMultiplier(), p.inputLeftShift());
        int symScaledDiff = scaledDiff + 32767;
        int sat = Math.min(Math.max(symScaledDiff, -32768), 32767);
        short e = (short) lutLookup(sat, p.expLut());
        output[base + c] = e;
        sumOfExps += e;
      }
      int headroomPlusOne = Integer.numberOfLeadingZeros(sumOfExps);
      int shiftedSum = (int) ((((long) sumOfExps << (headroomPlusOne - 1)) + (1 << 13)) >> 14);
      int symShiftedSum = shiftedSum + (-((1 << 15) + (1 << 16)));
      short satSymShiftedSum = (short) Math.min(Math.max(symShiftedSum, -32768), 32767);
      int reciprocalScaleQ015 = (short) lutLookup(satSymShiftedSum, p.oneOverOnePlusXLut());
      final int rightShift = 31 - headroomPlusOne;
      final long round = 1L << (rightShift - 1);
      for (int c = 0; c < depth; c++) {
        int result = (int) (((long) output[base + c] * reciprocalScaleQ015 + round) >> rightShift);
        output[base + c] = (short) Math.min(Math.max(result, 0), 32767);
      }
    }
  }
}
