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

  /** Input rows computed together: each packed filter row loaded once feeds four accumulator rows. */
  static final int ROW_BLOCK = 4;

  /**
   * The int8 filter packed at prepare time for {@link #evalInt8}: transposed to {@code [accumDepth][outputDepth]}
   * and widened with the filter offset applied, {@code packed[d][oc] = filter[oc][d] + filterOffset}.
   */
  public static int[][] packInt8(byte[] filter, int filterOffset, int accumDepth, int outputDepth) {
    int[][] packed = new int[accumDepth][outputDepth];
    for (int oc = 0; oc < outputDepth; oc++) {
      for (int d = 0; d < accumDepth; d++) {
        packed[d][oc] = filter[oc * accumDepth + d] + filterOffset;
      }
    }
    return packed;
  }

  /** The float filter transposed to {@code [accumDepth][outputDepth]} for {@link #evalFloat}. */
  public static float[][] packFloat(float[] filter, int accumDepth, int outputDepth) {
    float[][] packed = new float[accumDepth][outputDepth];
    for (int oc = 0; oc < outputDepth; oc++) {
      for (int d = 0; d < accumDepth; d++) {
        packed[d][oc] = filter[oc * accumDepth + d];
      }
    }
    return packed;
  }

  /**
   * {@code acc[oc] = bias[oc] + sum_d packed[d][oc] * (input[d] + inputOffset)}, accumulated along contiguous output
   * channels for four rows at a time; exact in int32 like the reference (the same sum in another order). A depth
   * whose input is at the zero point for all four rows adds nothing and is skipped (common after a ReLU).
   *
   * @param packed {@link #packInt8}
   */
  public static void evalInt8(QuantizedParams p, int batches, int accumDepth, int outputDepth, byte[] input,
      int[][] packed, int[] bias, byte[] output, KernelScratch scratch) {
    final int inputOffset = p.inputOffset();
    final int outputOffset = p.outputOffset();
    final int outputMultiplier = p.outputMultiplier();
    final int outputShift = p.outputShift();
    final int outputActivationMin = p.outputActivationMin();
    final int outputActivationMax = p.outputActivationMax();
    final int[][] acc = scratch.intRowsB(ROW_BLOCK, outputDepth);
    for (int b0 = 0; b0 < batches; b0 += ROW_BLOCK) {
      final int rows = Math.min(ROW_BLOCK, batches - b0);
      for (int r = 0; r < ROW_BLOCK; r++) {
        if (bias == null) {
          java.util.Arrays.fill(acc[r], 0, outputDepth, 0);
        } else {
          System.arraycopy(bias, 0, acc[r], 0, outputDepth);
        }
      }
      if (rows < ROW_BLOCK) { // the batch's last rows (all of batch 1): one at a time, not four with copies
        for (int r = 0; r < rows; r++) {
          accumulateRow(input, (b0 + r) * accumDepth, inputOffset, accumDepth, outputDepth, packed, acc[r]);
        }
      } else {
        accumulate4(input, b0 * accumDepth, inputOffset, accumDepth, outputDepth, packed, acc[0], acc[1], acc[2],
            acc[3]);
      }
      for (int r = 0; r < rows; r++) {
        final int[] a = acc[r];
        final int outBase = (b0 + r) * outputDepth;
        for (int oc = 0; oc < outputDepth; oc++) {
          output[outBase + oc] = (byte) outputStage(a[oc], outputMultiplier, outputShift, outputOffset,
              outputActivationMin, outputActivationMax);
        }
      }
    }
  }

  /** Four input rows from {@code in0} on: {@code a_r[oc] += packed[d][oc] * (input[row r][d] + inputOffset)}. */
  private static void accumulate4(byte[] input, int in0, int inputOffset, int accumDepth, int outputDepth,
      int[][] packed, int[] a0, int[] a1, int[] a2, int[] a3) {
    final int in1 = in0 + accumDepth;
    final int in2 = in1 + accumDepth;
    final int in3 = in2 + accumDepth;
    for (int d = 0; d < accumDepth; d++) {
      final int x0 = input[in0 + d] + inputOffset;
      final int x1 = input[in1 + d] + inputOffset;
      final int x2 = input[in2 + d] + inputOffset;
      final int x3 = input[in3 + d] + inputOffset;
      if ((x0 | x1 | x2 | x3) == 0) {
        continue;
      }
      final int[] w = packed[d];
      for (int oc = 0; oc < outputDepth; oc++) {
        final int v = w[oc];
        a0[oc] += v * x0;
        a1[oc] += v * x1;
        a2[oc] += v * x2;
        a3[oc] += v * x3;
      }
    }
  }

  private static void accumulateRow(byte[] input, int in, int inputOffset, int accumDepth, int outputDepth,
      int[][] packed, int[] a) {
    for (int d = 0; d < accumDepth; d++) {
      final int x = input[in + d] + inputOffset;
      if (x == 0) {
        continue;
      }
      final int[] w = packed[d];
      for (int oc = 0; oc < outputDepth; oc++) {
        a[oc] += w[oc] * x;
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

  /**
   * {@code out = clamp((sum over d in order of input[d] * filter[oc][d]) + bias[oc])}: the order of every row's sum
   * is fixed (depth ascending), so a row's output does not depend on the rows computed beside it.
   *
   * @param packed {@link #packFloat}
   */
  public static void evalFloat(KernelUtil.FloatRange activation, int batches, int accumDepth, int outputDepth,
      float[] input, float[][] packed, float[] bias, float[] output, KernelScratch scratch) {
    final float min = activation.min();
    final float max = activation.max();
    final float[][] acc = scratch.floatRowsB(ROW_BLOCK, outputDepth);
    for (int b0 = 0; b0 < batches; b0 += ROW_BLOCK) {
      final int rows = Math.min(ROW_BLOCK, batches - b0);
      for (int r = 0; r < ROW_BLOCK; r++) {
        java.util.Arrays.fill(acc[r], 0, outputDepth, 0f);
      }
      if (rows < ROW_BLOCK) { // each row's sum in the same order as in a block of four: bit-identical
        for (int r = 0; r < rows; r++) {
          accumulateRow(input, (b0 + r) * accumDepth, accumDepth, outputDepth, packed, acc[r]);
        }
      } else {
        accumulate4(input, b0 * accumDepth, accumDepth, outputDepth, packed, acc[0], acc[1], acc[2], acc[3]);
      }
      for (int r = 0; r < rows; r++) {
        final float[] a = acc[r];
        final int outBase = (b0 + r) * outputDepth;
        for (int oc = 0; oc < outputDepth; oc++) {
          output[outBase + oc] = KernelUtil.clamp(bias == null ? a[oc] : a[oc] + bias[oc], min, max);
        }
      }
    }
  }

  private static void accumulate4(float[] input, int in0, int accumDepth, int outputDepth, float[][] packed,
      float[] a0, float[] a1, float[] a2, float[] a3) {
    final int in1 = in0 + accumDepth;
    final int in2 = in1 + accumDepth;
    final int in3 = in2 + accumDepth;
    for (int d = 0; d < accumDepth; d++) {
      final float x0 = input[in0 + d];
      final float x1 = input[in1 + d];
      final float x2 = input[in2 + d];
      final float x3 = input[in3 + d];
      final float[] w = packed[d];
      for (int oc = 0; oc < outputDepth; oc++) {
        final float v = w[oc];
        a0[oc] += x0 * v;
        a1[oc] += x1 * v;
        a2[oc] += x2 * v;
        a3[oc] += x3 * v;
      }
    }
  }

  private static void accumulateRow(float[] input, int in, int accumDepth, int outputDepth, float[][] packed,
      float[] a) {
    for (int d = 0; d < accumDepth; d++) {
      final float x = input[in + d];
      final float[] w = packed[d];
      for (int oc = 0; oc < outputDepth; oc++) {
        a[oc] += x * w[oc];
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
