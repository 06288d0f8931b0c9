package io.sparkquant.ops.kernels;

/**
 * TANH. int8 follows TFLite 2.6.2's generic-optimized path: a 256-entry lookup table of tanhf over
 * the input's quantized values (PopulateLookupTable), output fixed at scale 1/128, zero point 0.
 */
public final class Tanh {

  private Tanh() {}

  public static byte[] prepareInt8(float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint) {
    return Logistic.populateLookupTable(inputScale, inputZeroPoint, outputScale, outputZeroPoint,
        v -> (float) Math.tanh((float) v));
  }

  public static void evalFloat(float[] input, float[] output) {
    for (int i = 0; i < input.length; i++) {
      output[i] = (float) Math.tanh(input[i]);
    }
  }

  /** int16 parameters: as {@link Logistic#prepareInt16}, tanh(x) = 2 sigmoid(2x) - 1 on the same table. */
  public static Logistic.Int16Params prepareInt16(float inputScale, float outputScale) {
    return Logistic.prepareInt16(inputScale, outputScale, true);
  }

  /** reference_integer_ops::Tanh (int16). */
  public static void evalInt16(Logistic.Int16Params p, short[] input, short[] output) {
    for (int i = 0; i < input.length; i++) {
      int inputData = Logistic.rescaleInt16(p, input[i]);
      int absInputData = Math.abs(inputData);
      int uh = absInputData >>> 8;
      int result;
      if (uh >= 255) {
        result = 0xFFFF << 8;
      } else {
        int ua = Logistic.SIGMOID_TABLE_UINT16[uh];
        int ub = Logistic.SIGMOID_TABLE_UINT16[uh + 1];
        int ut = absInputData & 0xFF;
        result = (ua << 8) + ut * (ub - ua);
      }
      result = inputData >= 0 ? result - (1 << (14 + 9)) + (1 << (9 - 2))
          : -result + (1 << (14 + 9)) + (1 << (9 - 2)) - 1;
      output[i] = (short) (result >> (9 - 1));
    }
  }
}
