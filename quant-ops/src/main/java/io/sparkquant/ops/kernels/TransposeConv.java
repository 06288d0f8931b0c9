package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * TRANSPOSE_CONV (reference_integer_ops/transpose_conv.h, reference/transpose_conv.h, kernels/transpose_conv.cc).
 * Input NHWC, filter OHWI, output NHWC of the shape the op's output_shape input gives. Every input pixel scatters
 * {@code (q + inputOffset) * filter} into the output window it covers, the sums are requantized per channel as
 * CONV_2D's ({@link Conv#prepare}, no fused activation in TFLite 2.6.2). Padding is SAME/VALID computed from the
 * output size, as the forward conv whose gradient this is.
 */
public final class TransposeConv {

  private TransposeConv() {}

  /** Sizes: {@code in} = [batches, inH, inW, inD], {@code out} = [batches, outH, outW, outD], filter [outD, fH, fW, inD]. */
  public record Geometry(int batches, int inputHeight, int inputWidth, int inputDepth, int outputHeight,
      int outputWidth, int outputDepth, int filterHeight, int filterWidth, int strideHeight, int strideWidth,
      int padHeight, int padWidth) {

    public static Geometry of(int[] inputShape, int[] filterShape, int[] outputShape, Padding padding, int strideH,
        int strideW) {
      // transpose_conv.cc: ComputePaddingHeightWidth with the output as the conv input, dilation 1
      int padH = padding.padBefore(outputShape[1], filterShape[1], strideH, 1);
      int padW = padding.padBefore(outputShape[2], filterShape[2], strideW, 1);
      return new Geometry(inputShape[0], inputShape[1], inputShape[2], inputShape[3], outputShape[1], outputShape[2],
          outputShape[3], filterShape[1], filterShape[2], strideH, strideW, padH, padW);
    }

    int outputSize() {
      return batches * outputHeight * outputWidth * outputDepth;
    }
  }

  /** The scatter of every input pixel into the int64 (exact) accumulators; {@code input[i] + inputOffset}. */
  private interface Input {
    int at(int i);
  }

  private static long[] scatter(Geometry g, Input input, int inputOffset, byte[] filter) {
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    final int inD = g.inputDepth();
    final int outH = g.outputHeight();
    final int outW = g.outputWidth();
    final int outD = g.outputDepth();
    final int fH = g.filterHeight();
    final int fW = g.filterWidth();
    final long[] scratch = new long[g.outputSize()];
    for (int b = 0; b < g.batches(); b++) {
      for (int inY = 0; inY < inH; inY++) {
        for (int inX = 0; inX < inW; inX++) {
          final int outXOrigin = inX * g.strideWidth() - g.padWidth();
          final int outYOrigin = inY * g.strideHeight() - g.padHeight();
          final int inBase = ((b * inH + inY) * inW + inX) * inD;
          for (int fy = 0; fy < fH; fy++) {
            final int outY = outYOrigin + fy;
            if (outY < 0 || outY >= outH) {
              continue;
            }
            for (int fx = 0; fx < fW; fx++) {
              final int outX = outXOrigin + fx;
              if (outX < 0 || outX >= outW) {
                continue;
              }
              final int outBase = ((b * outH + outY) * outW + outX) * outD;
              for (int ic = 0; ic < inD; ic++) {
                final int inputValue = input.at(inBase + ic) + inputOffset;
                for (int oc = 0; oc < outD; oc++) {
                  scratch[outBase + oc] += (long) inputValue * filter[((oc * fH + fy) * fW + fx) * inD + ic];
                }
              }
            }
          }
        }
      }
    }
    return scratch;
  }

  /**
   * int8: TFLite accumulates in int32; the exact sum cast to int wraps as that would. Requantized with the double
   * rounding MultiplyByQuantizedMultiplier (TransposeConvVsTfliteTest fails with ruy's single rounding); bias may
   * be null.
   */
  public static void evalInt8(Conv.QuantizedParams p, Geometry g, byte[] input, byte[] filter, int[] bias,
      byte[] output) {
    final long[] scratch = scatter(g, i -> input[i], p.inputOffset(), filter);
    final int outD = g.outputDepth();
    for (int i = 0; i < scratch.length; i++) {
      final int oc = i % outD;
      int acc = (int) scratch[i];
      if (bias != null) {
        acc += bias[oc];
      }
      acc = FixedPoint.multiplyByQuantizedMultiplier(acc, p.outputMultiplier()[oc], p.outputShift()[oc]);
      acc += p.outputOffset();
      output[i] = (byte) KernelUtil.clamp(acc, p.outputActivationMin(), p.outputActivationMax());
    }
  }

  /** 16x8: int64 accumulator and bias, requantized with the 16-bit reduced multiplier. */
  public static void evalInt16(Conv.QuantizedParams p, Geometry g, short[] input, byte[] filter, long[] bias,
      short[] output) {
    final long[] scratch = scatter(g, i -> input[i], p.inputOffset(), filter);
    final int outD = g.outputDepth();
    for (int i = 0; i < scratch.length; i++) {
      final int oc = i % outD;
      long acc = scratch[i];
      if (bias != null) {
        acc += bias[oc];
      }
      int scaledAcc = FixedPoint.multiplyByQuantizedMultiplier(acc, p.outputMultiplier()[oc], p.outputShift()[oc]);
      scaledAcc += p.outputOffset();
      output[i] = (short) KernelUtil.clamp(scaledAcc, p.outputActivationMin(), p.outputActivationMax());
    }
  }

  public static void evalFloat(Geometry g, float[] input, float[] filter, float[] bias, float[] output) {
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    final int inD = g.inputDepth();
    final int outH = g.outputHeight();
    final int outW = g.outputWidth();
    final int outD = g.outputDepth();
    final int fH = g.filterHeight();
    final int fW = g.filterWidth();
    java.util.Arrays.fill(output, 0f);
    for (int b = 0; b < g.batches(); b++) {
      for (int inY = 0; inY < inH; inY++) {
        for (int inX = 0; inX < inW; inX++) {
          final int outXOrigin = inX * g.strideWidth() - g.padWidth();
          final int outYOrigin = inY * g.strideHeight() - g.padHeight();
          final int inBase = ((b * inH + inY) * inW + inX) * inD;
          for (int fy = 0; fy < fH; fy++) {
            final int outY = outYOrigin + fy;
            if (outY < 0 || outY >= outH) {
              continue;
            }
            for (int fx = 0; fx < fW; fx++) {
              final int outX = outXOrigin + fx;
              if (outX < 0 || outX >= outW) {
                continue;
              }
              final int outBase = ((b * outH + outY) * outW + outX) * outD;
              for (int ic = 0; ic < inD; ic++) {
                final float inputValue = input[inBase + ic];
                for (int oc = 0; oc < outD; oc++) {
                  output[outBase + oc] += inputValue * filter[((oc * fH + fy) * fW + fx) * inD + ic];
                }
              }
            }
          }
        }
      }
    }
    if (bias != null) {
      for (int i = 0; i < output.length; i++) {
        output[i] += bias[i % outD];
      }
    }
  }
}
