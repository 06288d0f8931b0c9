package io.sparkquant.ops.kernels;

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
        final int probQuantized = io.sparkquant.ops.numerics.FixedPoint.roundHalfAwayFromZero(probRescaled)
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
}
