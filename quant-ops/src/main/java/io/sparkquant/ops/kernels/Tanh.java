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
}
