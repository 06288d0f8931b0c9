package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * CONV_2D (reference_integer_ops/conv.h ConvPerChannel, reference/conv.h, kernels/conv.cc). Input NHWC,
 * filter OHWI, output NHWC. Positions outside the input contribute nothing (zero in the real domain).
 */
public final class Conv {

  private Conv() {}

  /**
   * Per-channel requantization: {@code inputOffset = -inputZeroPoint} (r = s(q - Z)),
   * {@code outputMultiplier[c] * 2^outputShift[c] = inputScale * filterScale[c] / outputScale}.
   */
  public record QuantizedParams(int inputOffset, int outputOffset, int[] outputMultiplier, int[] outputShift,
      int outputActivationMin, int outputActivationMax) {}

  /** Prepare for int8 (qmin -128, qmax 127) or int16 (16x8: -32768, 32767, zero points 0). */
  public static QuantizedParams prepare(float inputScale, int inputZeroPoint, float[] filterScales, float outputScale,
      int outputZeroPoint, FusedActivation activation, int outputChannels, int qmin, int qmax) {
    FixedPoint.QuantizedMultiplier[] qms =
        KernelUtil.perChannelMultipliers(inputScale, filterScales, outputScale, outputChannels);
    KernelUtil.QuantizedRange range =
        KernelUtil.activationRangeQuantized(activation, outputScale, outputZeroPoint, qmin, qmax);
    return new QuantizedParams(-inputZeroPoint, outputZeroPoint, KernelUtil.multipliers(qms), KernelUtil.shifts(qms),
        range.min(), range.max());
  }

  public static void evalInt8(QuantizedParams p, ConvGeometry g, byte[] input, byte[] filter, int[] bias,
      byte[] output) {
    final int inputOffset = p.inputOffset();
    final int outputOffset = p.outputOffset();
    final int[] outputMultiplier = p.outputMultiplier();
    final int[] outputShift = p.outputShift();
    final int outputActivationMin = p.outputActivationMin();
    final int outputActivationMax = p.outputActivationMax();
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    final int inD = g.inputDepth();
    final int outD = g.outputDepth();
    final int fH = g.filterHeight();
    final int fW = g.filterWidth();
    final int patchSize = fH * fW * inD;
    // one im2col patch per output pixel: (q + inputOffset), or 0 where the filter hangs over the border,
    // which is what skipping those taps contributes; the dot products then run over contiguous arrays
    final int[] patch = new int[patchSize];
    int o = 0;
    for (int b = 0; b < g.batches(); b++) {
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        for (int outX = 0; outX < g.outputWidth(); outX++) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          int k = 0;
          for (int fy = 0; fy < fH; fy++) {
            final int inY = inYOrigin + g.dilationHeight() * fy;
            for (int fx = 0; fx < fW; fx++) {
              final int inX = inXOrigin + g.dilationWidth() * fx;
              if (inY < 0 || inY >= inH || inX < 0 || inX >= inW) {
                java.util.Arrays.fill(patch, k, k + inD, 0);
              } else {
                final int inBase = ((b * inH + inY) * inW + inX) * inD;
                for (int ic = 0; ic < inD; ic++) {
                  patch[k + ic] = input[inBase + ic] + inputOffset;
                }
              }
              k += inD;
            }
          }
          for (int oc = 0; oc < outD; oc++) {
            final int fBase = oc * patchSize;
            int acc = 0;
            for (int i = 0; i < patchSize; i++) {
              acc += filter[fBase + i] * patch[i];
            }
            if (bias != null) {
              acc += bias[oc];
            }
            output[o++] = (byte) outputStage(acc, outputMultiplier[oc], outputShift[oc], outputOffset,
                outputActivationMin, outputActivationMax);
          }
        }
      }
    }
  }

  /**
   * The int8 output of one accumulator (bias included): {@code clamp(M(acc) + outputOffset, min, max)}. ruy applies
   * the multiplier (TFLite 2.6.2 x86 runs int8 conv as im2col + ruy GEMM): a single rounding. Public for the QAT
   * simulation, which requantizes the accumulators it recovers with this same stage.
   */
  public static int outputStage(int acc, int outputMultiplier, int outputShift, int outputOffset,
      int outputActivationMin, int outputActivationMax) {
    int scaled = FixedPoint.multiplyByQuantizedMultiplierSingleRounding(acc, outputMultiplier, outputShift);
    return KernelUtil.clamp(scaled + outputOffset, outputActivationMin, outputActivationMax);
  }

  /** 16x8: int16 activations (zero point 0), int8 filter, int64 bias and accumulator. */
  public static void evalInt16(QuantizedParams p, ConvGeometry g, short[] input, byte[] filter, long[] bias,
      short[] output) {
    final int[] outputMultiplier = p.outputMultiplier();
    final int[] outputShift = p.outputShift();
    final int outputActivationMin = p.outputActivationMin();
    final int outputActivationMax = p.outputActivationMax();
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    final int inD = g.inputDepth();
    final int fH = g.filterHeight();
    final int fW = g.filterWidth();
    int o = 0;
    for (int b = 0; b < g.batches(); b++) {
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        for (int outX = 0; outX < g.outputWidth(); outX++) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          for (int oc = 0; oc < g.outputDepth(); oc++) {
            long acc = 0;
            for (int fy = 0; fy < fH; fy++) {
              final int inY = inYOrigin + g.dilationHeight() * fy;
              if (inY < 0 || inY >= inH) {
                continue;
              }
              for (int fx = 0; fx < fW; fx++) {
                final int inX = inXOrigin + g.dilationWidth() * fx;
                if (inX < 0 || inX >= inW) {
                  continue;
                }
                int inBase = ((b * inH + inY) * inW + inX) * inD;
                int fBase = ((oc * fH + fy) * fW + fx) * inD;
                for (int ic = 0; ic < inD; ic++) {
                  acc += filter[fBase + ic] * input[inBase + ic];
                }
              }
            }
            if (bias != null) {
              acc += bias[oc];
            }
            int scaled = FixedPoint.multiplyByQuantizedMultiplier(acc, outputMultiplier[oc], outputShift[oc]);
            output[o++] = (short) KernelUtil.clamp(scaled, outputActivationMin, outputActivationMax);
          }
        }
      }
    }
  }

  public static void evalFloat(KernelUtil.FloatRange activation, ConvGeometry g, float[] input, float[] filter,
      float[] bias, float[] output) {
    final float min = activation.min();
    final float max = activation.max();
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    final int inD = g.inputDepth();
    final int fH = g.filterHeight();
    final int fW = g.filterWidth();
    int o = 0;
    for (int b = 0; b < g.batches(); b++) {
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        for (int outX = 0; outX < g.outputWidth(); outX++) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          for (int oc = 0; oc < g.outputDepth(); oc++) {
            float acc = 0;
            for (int fy = 0; fy < fH; fy++) {
              final int inY = inYOrigin + g.dilationHeight() * fy;
              if (inY < 0 || inY >= inH) {
                continue;
              }
              for (int fx = 0; fx < fW; fx++) {
                final int inX = inXOrigin + g.dilationWidth() * fx;
                if (inX < 0 || inX >= inW) {
                  continue;
                }
                int inBase = ((b * inH + inY) * inW + inX) * inD;
                int fBase = ((oc * fH + fy) * fW + fx) * inD;
                for (int ic = 0; ic < inD; ic++) {
                  acc += input[inBase + ic] * filter[fBase + ic];
                }
              }
            }
            if (bias != null) {
              acc += bias[oc];
            }
            output[o++] = KernelUtil.clamp(acc, min, max);
          }
        }
      }
    }
  }

  /**
   * Hybrid (dynamic-range) CONV_2D as conv.cc EvalHybridPerChannel / EvalHybrid with the optimized
   * kernels: each batch's input is quantized on the fly ({@link TensorUtils}), dot products are exact
   * int32, and {@code out = (float) (dot - rowSum[c] * inputZeroPoint[b]) * (scale[b] * filterScale[c]) + bias[c]}.
   *
   * @param asymmetric per-channel filters use asymmetric input quantization (EvalHybridPerChannel);
   *     per-tensor filters use symmetric input quantization (EvalHybrid)
   */
  public static void evalHybrid(KernelUtil.FloatRange activation, ConvGeometry g, float[] input, byte[] filter,
      float[] filterScales, float[] bias, float[] output, boolean asymmetric) {
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    final int inD = g.inputDepth();
    final int fH = g.filterHeight();
    final int fW = g.filterWidth();
    final int outD = g.outputDepth();
    final int inputSize = inH * inW * inD;
    byte[] quantized = new byte[input.length];
    int[] rowSums = new int[outD];
    int filterCols = fH * fW * inD;
    for (int oc = 0; oc < outD; oc++) {
      int s = 0;
      for (int i = 0; i < filterCols; i++) {
        s += filter[oc * filterCols + i];
      }
      rowSums[oc] = s;
    }
    int o = 0;
    for (int b = 0; b < g.batches(); b++) {
      TensorUtils.QuantizedVector qv = asymmetric
          ? TensorUtils.asymmetricQuantizeFloats(input, b * inputSize, inputSize, quantized)
          : TensorUtils.symmetricQuantizeFloats(input, b * inputSize, inputSize, quantized);
      final int zeroPoint = qv.zeroPoint();
      final byte padValue = (byte) zeroPoint; // im2col pads with the zero point: real zero
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        for (int outX = 0; outX < g.outputWidth(); outX++) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          for (int oc = 0; oc < outD; oc++) {
            int dot = 0;
            for (int fy = 0; fy < fH; fy++) {
              final int inY = inYOrigin + g.dilationHeight() * fy;
              for (int fx = 0; fx < fW; fx++) {
                final int inX = inXOrigin + g.dilationWidth() * fx;
                int fBase = ((oc * fH + fy) * fW + fx) * inD;
                if (inY < 0 || inY >= inH || inX < 0 || inX >= inW) {
                  for (int ic = 0; ic < inD; ic++) {
                    dot += filter[fBase + ic] * padValue;
                  }
                  continue;
                }
                int inBase = ((b * inH + inY) * inW + inX) * inD;
                for (int ic = 0; ic < inD; ic++) {
                  dot += filter[fBase + ic] * quantized[inBase + ic];
                }
              }
            }
            float filterScale = filterScales.length == 1 ? filterScales[0] : filterScales[oc];
            float scale = qv.scalingFactor() * filterScale; // scaling_factors[b] * per_channel_scale[c], in float
            float acc = 0f + (dot - rowSums[oc] * zeroPoint) * scale;
            if (bias != null) {
              acc += bias[oc];
            }
            output[o++] = KernelUtil.clamp(acc, activation.min(), activation.max());
          }
        }
      }
    }
  }
}
