package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * Standalone RELU and RELU6 (activations.cc ReluPrepare, QuantizedReluX; reference_ops ReluX). The
 * quantized path requantizes from the input's to the output's parameters while it clamps, so input and
 * output may have different scales and zero points.
 */
public final class Relu {

  private Relu() {}

  /** {@code outputZeroPoint + MBQM(q - inputZeroPoint)} clamped to {@code [outputActivationMin, outputActivationMax]}. */
  public record QuantizedParams(int inputZeroPoint, int outputZeroPoint, int outputMultiplier, int outputShift,
      int outputActivationMin, int outputActivationMax) {}

  /**
   * ReluPrepare + QuantizedReluX for activation bounds {@code [activationMin, activationMax]} (RELU: 0 and
   * +infinity, RELU6: 0 and 6). The multiplier is {@code inputScale / outputScale} divided in float, then
   * widened to double, as ReluPrepare computes it; the bounds are {@code zeroPoint + roundf(bound / scale)}.
   */
  public static QuantizedParams prepare(float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint,
      float activationMin, float activationMax, int qmin, int qmax) {
    FixedPoint.QuantizedMultiplier m = FixedPoint.quantizeMultiplier((double) (inputScale / outputScale));
    int min = Math.max(qmin, outputZeroPoint + FixedPoint.roundHalfAwayFromZero(activationMin / outputScale));
    int max = activationMax == Float.POSITIVE_INFINITY ? qmax
        : Math.min(qmax, outputZeroPoint + FixedPoint.roundHalfAwayFromZero(activationMax / outputScale));
    return new QuantizedParams(inputZeroPoint, outputZeroPoint, m.quantizedMultiplier(), m.shift(), min, max);
  }

  public static void evalInt8(QuantizedParams p, byte[] input, byte[] output) {
    for (int i = 0; i < input.length; i++) {
      output[i] = (byte) requantizeAndClamp(p, input[i]);
    }
  }

  public static void evalInt16(QuantizedParams p, short[] input, short[] output) {
    for (int i = 0; i < input.length; i++) {
      output[i] = (short) requantizeAndClamp(p, input[i]);
    }
  }

  private static int requantizeAndClamp(QuantizedParams p, int q) {
    final int inputZeroPoint = p.inputZeroPoint();
    final int outputZeroPoint = p.outputZeroPoint();
    int v = outputZeroPoint + FixedPoint.multiplyByQuantizedMultiplier(q - inputZeroPoint, p.outputMultiplier(),
        p.outputShift());
    return KernelUtil.clamp(v, p.outputActivationMin(), p.outputActivationMax());
  }

  /** Float RELU ({@code std::max(0.f, x)}) or RELU6 ({@code std::min(std::max(0.f, x), 6.f)}). */
  public static void evalFloat(boolean relu6, float[] input, float[] output) {
    for (int i = 0; i < input.length; i++) {
      float x = 0f < input[i] ? input[i] : 0f; // std::max(0.f, x): NaN gives 0, as in C++
      output[i] = relu6 && 6f < x ? 6f : x;
    }
  }
}
