package io.sparkquant.ops.kernels;

/**
 * DEQUANTIZE (reference/dequantize.h): {@code (float) (scale * (q - zeroPoint))} with a double scale
 * for int8/int16, and exact IEEE half to float conversion for FLOAT16 weights.
 */
public final class Dequantize {

  private Dequantize() {}

  public static void dequantizeInt8(byte[] input, float scale, int zeroPoint, float[] output) {
    final double s = scale;
    for (int i = 0; i < input.length; i++) {
      output[i] = (float) (s * (input[i] - zeroPoint));
    }
  }

  public static void dequantizeInt16(short[] input, float scale, int zeroPoint, float[] output) {
    final double s = scale;
    for (int i = 0; i < input.length; i++) {
      output[i] = (float) (s * (input[i] - zeroPoint));
    }
  }

  /** FLOAT16 bits (as stored little-endian in the flatbuffer, read into shorts) to float. */
  public static void dequantizeFloat16(short[] input, float[] output) {
    for (int i = 0; i < input.length; i++) {
      output[i] = halfToFloat(input[i]);
    }
  }

  /** IEEE 754 binary16 to binary32, exact (subnormals, infinities and NaN included). */
  public static float halfToFloat(short bits) {
    int h = bits & 0xFFFF;
    int sign = (h >>> 15) << 31;
    int exp = (h >>> 10) & 0x1F;
    int mant = h & 0x3FF;
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      float v = mant * 0x1p-24f; // subnormal: mant * 2^-24, exact in float
      return sign != 0 ? -v : v;
    }
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }
}
