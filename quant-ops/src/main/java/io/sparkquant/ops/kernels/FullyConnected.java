package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * FULLY_CONNECTED (reference_integer_ops/fully_connected.h, reference/fully_connected.h,
 * kernels/fully_connected.cc). The input is read as {@code [batches, accumDepth]} rows, the filter is
 * {@code [outputDepth, accumDepth]}, the output {@code [batches, outputDepth]}. Per-tensor filter scale
 * (TFLite 2.6.2 has no per-channel FULLY_CONNECTED).
 */
public final class FullyConnected {

  private FullyConnected() {}

  /** {@code inputOffset = -inputZeroPoint}; {@code outputMultiplier * 2^outputShift = sIn * sW / sOut}. */
  public record QuantizedParams(int inputOffset, int filterOffset, int outputOffset, int outputMultiplier,
      int outputShift, int outputActivationMin, int outputActivationMax) {}

  public static QuantizedParams prepare(float inputScale, int inputZeroPoint, float filterScale, int filterZeroPoint,
      float outputScale, int outputZeroPoint, FusedActivation activation, int qmin, int qmax) {
    FixedPoint.QuantizedMultiplier qm =
        FixedPoint.quantizeMultiplier(KernelUtil.effectiveScale(inputScale, filterScale, outputScale));
    KernelUtil.QuantizedRange range =
        KernelUtil.activationRangeQuantized(activation, outputScale, outputZeroPoint, qmin, qmax);
    return new QuantizedParams(-inputZeroPoint, -filterZeroPoint, outputZeroPoint, qm.quantizedMultiplier(),
        qm.shift(), range.min(), range.max());
  }

  public static void evalInt8(QuantizedParams p, int batches, int accumDepth, int outputDepth, byte[] input,
      byte[] filter, int[] bias, byte[] output) {
    final int inputOffset = p.inputOffset();
    final int filterOffset = p.filterOffset();
    final int outputOffset = p.outputOffset();
    final int outputMultiplier = p.outputMultiplier();
    final int outputShift = p.outputShift();
    final int outputActivationMin = p.outputActivationMin();
    final int outputActivationMax = p.outputActivationMax();
    for (int b = 0; b < batches; b++) {
      final int inBase = b * accumDepth;
      for (int oc = 0; oc < outputDepth; oc++) {
        final int fBase = oc * accumDepth;
        int acc = 0;
        for (int d = 0; d < accumDepth; d++) {
          acc += (filter[fBase + d] + filterOffset) * (input[inBase + d] + inputOffset);
        }
        if (bias != null) {
          acc += bias[oc];
        }
        output[b * outputDepth + oc] = (byte) outputStage(acc, outputMultiplier, outputShift, outputOffset,
            outputActivationMin, outputActivationMax);
      }
    }
  }

  /**
   * The int8 output of one accumulator (bias included): {@code clamp(M(acc) + outputOffset, min, max)}. ruy applies
   * the multiplier (TFLite 2.6.2 x86 runs int8 FC as a ruy GEMM): a single rounding. Public for the QAT simulation,
   * which requantizes the accumulators it recovers with this same stage.
   */
  public static int outputStage(int acc, int outputMultiplier, int outputShift, int outputOffset,
      int outputActivationMin, int outputActivationMax) {
    int scaled = FixedPoint.multiplyByQuantizedMultiplierSingleRounding(acc, outputMultiplier, outputShift);
    return KernelUtil.clamp(scaled + outputOffset, outputActivationMin, outputActivationMax);
  }

  /** 16x8: int16 input (zero point 0), int8 filter, int64 bias and accumulator. */
  public static void evalInt16(QuantizedParams p, int batches, int accumDepth, int outputDepth, short[] input,
      byte[] filter, long[] bias, short[] output) {
    final int filterOffset = p.filterOffset();
    final int outputMultiplier = p.outputMultiplier();
    final int outputShift = p.outputShift();
    final int outputActivationMin = p.outputActivationMin();
    final int outputActivationMax = p.outputActivationMax();
    for (int b = 0; b < batches; b++) {
      final int inBase = b * accumDepth;
      for (int oc = 0; oc < outputDepth; oc++) {
        final int fBase = oc * accumDepth;
        long acc = 0;
        for (int d = 0; d < accumDepth; d++) {
          acc += (filter[fBase + d] + filterOffset) * input[inBase + d];
        }
        if (bias != null) {
          acc += bias[oc];
        }
        int scaled = FixedPoint.multiplyByQuantizedMultiplier(acc, outputMultiplier, outputShift);
        output[b * outputDepth + oc] = (short) KernelUtil.clamp(scaled, outputActivationMin, outputActivationMax);
      }
    }
  }

  public static void evalFloat(KernelUtil.FloatRange activation, int batches, int accumDepth, int outputDepth,
      float[] input, float[] filter, float[] bias, float[] output) {
    for (int b = 0; b < batches; b++) {
      final int inBase = b * accumDepth;
      for (int oc = 0; oc < outputDepth; oc++) {
        final int fBase = oc * accumDepth;
        float acc = 0;
        for (int d = 0; d < accumDepth; d++) {
          acc += input[inBase + d] * filter[fBase + d];
        }
        if (bias != null) {
          acc += bias[oc];
        }
        output[b * outputDepth + oc] = KernelUtil.clamp(acc, activation.min(), activation.max());
      }
    }
  }

  /**
   * Hybrid (dynamic-range) FULLY_CONNECTED as fully_connected.cc EvalHybrid: each batch row is quantized
   * on the fly (asymmetric or symmetric per the options), {@code out = bias + (float) (dot - rowSum *
   * inputZeroPoint) * (rowScale * filterScale)}, then the fused activation in float.
   */
  public static void evalHybrid(KernelUtil.FloatRange activation, int batches, int accumDepth, int outputDepth,
      float[] input, byte[] filter, float filterScale, float[] bias, float[] output, boolean asymmetric) {
    byte[] quantized = new byte[batches * accumDepth];
    int[] rowSums = new int[outputDepth];
    for (int oc = 0; oc < outputDepth; oc++) {
      int s = 0;
      for (int d = 0; d < accumDepth; d++) {
        s += filter[oc * accumDepth + d];
      }
      rowSums[oc] = s;
    }
    for (int b = 0; b < batches; b++) {
      final int inBase = b * accumDepth;
      TensorUtils.QuantizedVector qv = asymmetric
          ? TensorUtils.asymmetricQuantizeFloats(input, inBase, accumDepth, quantized)
          : TensorUtils.symmetricQuantizeFloats(input, inBase, accumDepth, quantized);
      final float scale = qv.scalingFactor() * filterScale; // scaling_factors[b] *= filter->params.scale
      final int zeroPoint = qv.zeroPoint();
      for (int oc = 0; oc < outputDepth; oc++) {
        final int fBase = oc * accumDepth;
        int dot = 0;
        for (int d = 0; d < accumDepth; d++) {
          dot += filter[fBase + d] * quantized[inBase + d];
        }
        dot -= rowSums[oc] * zeroPoint;
        float acc = bias != null ? bias[oc] : 0f;
        acc += dot * scale;
        output[b * outputDepth + oc] = KernelUtil.clamp(acc, activation.min(), activation.max());
      }
    }
  }
}
