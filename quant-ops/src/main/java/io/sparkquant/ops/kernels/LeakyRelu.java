package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * LEAKY_RELU (activations.cc LeakyReluPrepare/LeakyReluEval, reference_ops::QuantizeLeakyRelu): two multipliers,
 * {@code identity = inputScale / outputScale} for inputs at or above the zero point and
 * {@code alpha = inputScale * alpha / outputScale} below it.
 */
public final class LeakyRelu {

  private LeakyRelu() {}

  /** {@code inputOffset} and {@code outputOffset} are the zero points, as LeakyReluParams names them. */
  public record QuantizedParams(int inputOffset, int outputOffset, int outputMultiplierIdentity,
      int outputShiftIdentity, int outputMultiplierAlpha, int outputShiftAlpha, int qmin, int qmax) {}

  /**
   * LeakyReluPrepare: both real multipliers are computed in float ({@code input->params.scale * params->alpha /
   * output->params.scale}), then widened to double for QuantizeMultiplier.
   */
  public static QuantizedParams prepare(float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint,
      float alpha, int qmin, int qmax) {
    FixedPoint.QuantizedMultiplier a = FixedPoint.quantizeMultiplier((double) (inputScale * alpha / outputScale));
    FixedPoint.QuantizedMultiplier id = FixedPoint.quantizeMultiplier((double) (inputScale / outputScale));
    return new QuantizedParams(inputZeroPoint, outputZeroPoint, id.quantizedMultiplier(), id.shift(),
        a.quantizedMultiplier(), a.shift(), qmin, qmax);
  }

  public static void evalInt8(QuantizedParams p, byte[] input, byte[] output) {
    for (int i = 0; i < input.length; i++) {
      output[i] = (byte) requantize(p, input[i]);
    }
  }

  public static void evalInt16(QuantizedParams p, short[] input, short[] output) {
    for (int i = 0; i < input.length; i++) {
      output[i] = (short) requantize(p, input[i]);
    }
  }

  private static int requantize(QuantizedParams p, int q) {
    final int inputValue = q - p.inputOffset();
    final int unclamped = p.outputOffset() + (inputValue >= 0
        ? FixedPoint.multiplyByQuantizedMultiplier(inputValue, p.outputMultiplierIdentity(), p.outputShiftIdentity())
        : FixedPoint.multiplyByQuantizedMultiplier(inputValue, p.outputMultiplierAlpha(), p.outputShiftAlpha()));
    return KernelUtil.clamp(unclamped, p.qmin(), p.qmax());
  }

  /** Float: {@code x > 0 ? x : x * alpha}. */
  public static void evalFloat(float alpha, float[] input, float[] output) {
    for (int i = 0; i < input.length; i++) {
      float x = input[i];
      output[i] = x > 0 ? x : x * alpha;
    }
  }
}
