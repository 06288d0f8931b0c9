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

  /** Output channels computed together: each patch row loaded once feeds four accumulator rows. */
  static final int CHANNEL_BLOCK = 4;

  /**
   * Output pixels per tile: the transposed patch (patchSize rows of tile ints) stays within about 256 KB, so it is
   * read from cache by every block of output channels.
   */
  static int pixelTile(int patchSize, int pixels) {
    return Math.min(pixels, Math.max(16, (1 << 16) / patchSize));
  }

  /**
   * As im2col + GEMM: a tile of output pixels (across the batch) is laid out as a transposed patch, {@code
   * patch[k][j]} = tap k of pixel j as {@code q + inputOffset} (0 where the filter hangs over the border, which is
   * what skipping those taps contributes), then each accumulator row {@code acc[j] = bias + sum_k filter[oc][k] *
   * patch[k][j]} runs over contiguous pixels, four output channels at a time. Exact in int32 like the reference:
   * the sum is the same, only its order differs.
   */
  public static void evalInt8(QuantizedParams p, ConvGeometry g, byte[] input, byte[] filter, int[] bias,
      byte[] output, KernelScratch scratch) {
    final int inputOffset = p.inputOffset();
    final int outputOffset = p.outputOffset();
    final int[] outputMultiplier = p.outputMultiplier();
    final int[] outputShift = p.outputShift();
    final int outputActivationMin = p.outputActivationMin();
    final int outputActivationMax = p.outputActivationMax();
    final int outD = g.outputDepth();
    final int patchSize = g.filterHeight() * g.filterWidth() * g.inputDepth();
    final int pixels = g.batches() * g.outputHeight() * g.outputWidth();
    final int tile = pixelTile(patchSize, pixels);
    final int[][] patch = scratch.intRowsA(patchSize, tile);
    final int[][] acc = scratch.intRowsB(CHANNEL_BLOCK, tile);
    for (int n0 = 0; n0 < pixels; n0 += tile) {
      final int len = Math.min(tile, pixels - n0);
      im2col(g, input, inputOffset, n0, len, patch);
      for (int oc0 = 0; oc0 < outD; oc0 += CHANNEL_BLOCK) {
        final int block = Math.min(CHANNEL_BLOCK, outD - oc0);
        for (int r = 0; r < block; r++) {
          java.util.Arrays.fill(acc[r], 0, len, bias == null ? 0 : bias[oc0 + r]);
        }
        if (block == CHANNEL_BLOCK) {
          accumulate4(patch, filter, patchSize, oc0, len, acc[0], acc[1], acc[2], acc[3]);
        } else {
          for (int r = 0; r < block; r++) {
            accumulate1(patch, filter, patchSize, oc0 + r, len, acc[r]);
          }
        }
        for (int r = 0; r < block; r++) {
          final int oc = oc0 + r;
          final int[] a = acc[r];
          final int multiplier = outputMultiplier[oc];
          final int shift = outputShift[oc];
          int o = n0 * outD + oc;
          for (int j = 0; j < len; j++, o += outD) {
            // ruy applies the multiplier (TFLite 2.6.2 x86 runs int8 conv as im2col + ruy GEMM): single rounding
            int v = FixedPoint.multiplyByQuantizedMultiplierSingleRounding(a[j], multiplier, shift) + outputOffset;
            output[o] = (byte) KernelUtil.clamp(v, outputActivationMin, outputActivationMax);
          }
        }
      }
    }
  }

  /** The transposed patch of output pixels n0 .. n0 + len - 1 (batch-major): tap k of pixel j in patch[k][j]. */
  private static void im2col(ConvGeometry g, byte[] input, int inputOffset, int n0, int len, int[][] patch) {
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    final int inD = g.inputDepth();
    final int outH = g.outputHeight();
    final int outW = g.outputWidth();
    for (int j = 0; j < len; j++) {
      final int n = n0 + j;
      final int b = n / (outH * outW);
      final int outY = n / outW % outH;
      final int outX = n % outW;
      final int inYOrigin = outY * g.strideHeight() - g.padHeight();
      final int inXOrigin = outX * g.strideWidth() - g.padWidth();
      int k = 0;
      for (int fy = 0; fy < g.filterHeight(); fy++) {
        final int inY = inYOrigin + g.dilationHeight() * fy;
        for (int fx = 0; fx < g.filterWidth(); fx++, k += inD) {
          final int inX = inXOrigin + g.dilationWidth() * fx;
          if (inY < 0 || inY >= inH || inX < 0 || inX >= inW) {
            for (int ic = 0; ic < inD; ic++) {
              patch[k + ic][j] = 0;
            }
          } else {
            final int inBase = ((b * inH + inY) * inW + inX) * inD;
            for (int ic = 0; ic < inD; ic++) {
              patch[k + ic][j] = input[inBase + ic] + inputOffset;
            }
          }
        }
      }
    }
  }

  // acc[j] += w * x[j] over arrays that all start at 0: the loop shape C2 vectorizes (see KernelScratch)
  private static void accumulate4(int[][] patch, byte[] filter, int patchSize, int oc0, int len, int[] a0, int[] a1,
      int[] a2, int[] a3) {
    final int f0 = oc0 * patchSize;
    for (int k = 0; k < patchSize; k++) {
      final int[] x = patch[k];
      final int w0 = filter[f0 + k];
      final int w1 = filter[f0 + patchSize + k];
      final int w2 = filter[f0 + 2 * patchSize + k];
      final int w3 = filter[f0 + 3 * patchSize + k];
      for (int j = 0; j < len; j++) {
        final int v = x[j];
        a0[j] += w0 * v;
        a1[j] += w1 * v;
        a2[j] += w2 * v;
        a3[j] += w3 * v;
      }
    }
  }

  private static void accumulate1(int[][] patch, byte[] filter, int patchSize, int oc, int len, int[] a) {
    final int f = oc * patchSize;
    for (int k = 0; k < patchSize; k++) {
      final int[] x = patch[k];
      final int w = filter[f + k];
      for (int j = 0; j < len; j++) {
        a[j] += w * x[j];
      }
    }
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

  /**
   * The float kernel, shaped as {@link #evalInt8}: every output is {@code (sum over k in patch order of
   * filter[oc][k] * patch[k]) + bias[oc]}, taps over the border adding {@code filter * 0}, in the same order
   * whatever the batch and tile, so a row's output does not depend on the rows beside it.
   */
  public static void evalFloat(KernelUtil.FloatRange activation, ConvGeometry g, float[] input, float[] filter,
      float[] bias, float[] output, KernelScratch scratch) {
    final float min = activation.min();
    final float max = activation.max();
    final int outD = g.outputDepth();
    final int patchSize = g.filterHeight() * g.filterWidth() * g.inputDepth();
    final int pixels = g.batches() * g.outputHeight() * g.outputWidth();
    final int tile = pixelTile(patchSize, pixels);
    final float[][] patch = scratch.floatRowsA(patchSize, tile);
    final float[][] acc = scratch.floatRowsB(CHANNEL_BLOCK, tile);
    for (int n0 = 0; n0 < pixels; n0 += tile) {
      final int len = Math.min(tile, pixels - n0);
      im2col(g, input, n0, len, patch);
      for (int oc0 = 0; oc0 < outD; oc0 += CHANNEL_BLOCK) {
        final int block = Math.min(CHANNEL_BLOCK, outD - oc0);
        for (int r = 0; r < block; r++) {
          java.util.Arrays.fill(acc[r], 0, len, 0f);
        }
        if (block == CHANNEL_BLOCK) {
          accumulate4(patch, filter, patchSize, oc0, len, acc[0], acc[1], acc[2], acc[3]);
        } else {
          for (int r = 0; r < block; r++) {
            accumulate1(patch, filter, patchSize, oc0 + r, len, acc[r]);
          }
        }
        for (int r = 0; r < block; r++) {
          final int oc = oc0 + r;
          final float[] a = acc[r];
          final float b = bias == null ? 0f : bias[oc];
          int o = n0 * outD + oc;
          for (int j = 0; j < len; j++, o += outD) {
            output[o] = KernelUtil.clamp(bias == null ? a[j] : a[j] + b, min, max);
          }
        }
      }
    }
  }

  private static void im2col(ConvGeometry g, float[] input, int n0, int len, float[][] patch) {
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    final int inD = g.inputDepth();
    final int outH = g.outputHeight();
    final int outW = g.outputWidth();
    for (int j = 0; j < len; j++) {
      final int n = n0 + j;
      final int b = n / (outH * outW);
      final int outY = n / outW % outH;
      final int outX = n % outW;
      final int inYOrigin = outY * g.strideHeight() - g.padHeight();
      final int inXOrigin = outX * g.strideWidth() - g.padWidth();
      int k = 0;
      for (int fy = 0; fy < g.filterHeight(); fy++) {
        final int inY = inYOrigin + g.dilationHeight() * fy;
        for (int fx = 0; fx < g.filterWidth(); fx++, k += inD) {
          final int inX = inXOrigin + g.dilationWidth() * fx;
          if (inY < 0 || inY >= inH || inX < 0 || inX >= inW) {
            for (int ic = 0; ic < inD; ic++) {
              patch[k + ic][j] = 0f;
            }
          } else {
            final int inBase = ((b * inH + inY) * inW + inX) * inD;
            for (int ic = 0; ic < inD; ic++) {
              patch[k + ic][j] = input[inBase + ic];
            }
          }
        }
      }
    }
  }

  private static void accumulate4(float[][] patch, float[] filter, int patchSize, int oc0, int len, float[] a0,
      float[] a1, float[] a2, float[] a3) {
    final int f0 = oc0 * patchSize;
    for (int k = 0; k < patchSize; k++) {
      final float[] x = patch[k];
      final float w0 = filter[f0 + k];
      final float w1 = filter[f0 + patchSize + k];
      final float w2 = filter[f0 + 2 * patchSize + k];
      final float w3 = filter[f0 + 3 * patchSize + k];
      for (int j = 0; j < len; j++) {
        final float v = x[j];
        a0[j] += w0 * v;
        a1[j] += w1 * v;
        a2[j] += w2 * v;
        a3[j] += w3 * v;
      }
    }
  }

  private static void accumulate1(float[][] patch, float[] filter, int patchSize, int oc, int len, float[] a) {
    final int f = oc * patchSize;
    for (int k = 0; k < patchSize; k++) {
      final float[] x = patch[k];
      final float w = filter[f + k];
      for (int j = 0; j < len; j++) {
        a[j] += w * x[j];
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
