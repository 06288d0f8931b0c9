package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * DEPTHWISE_CONV_2D (reference_integer_ops/depthwise_conv.h DepthwiseConvPerChannel,
 * reference/depthwiseconv_float.h). Input NHWC, filter {@code [1, fH, fW, inDepth * depthMultiplier]},
 * output channel {@code oc = ic * depthMultiplier + m}.
 */
public final class DepthwiseConv {

  private DepthwiseConv() {}

  /** Same meaning as {@link Conv.QuantizedParams}; one multiplier per output channel. */
  public record QuantizedParams(int inputOffset, int outputOffset, int depthMultiplier, int[] outputMultiplier,
      int[] outputShift, int outputActivationMin, int outputActivationMax) {}

  public static QuantizedParams prepare(float inputScale, int inputZeroPoint, float[] filterScales, float outputScale,
      int outputZeroPoint, FusedActivation activation, int outputChannels, int depthMultiplier, int qmin, int qmax) {
    FixedPoint.QuantizedMultiplier[] qms =
        KernelUtil.perChannelMultipliers(inputScale, filterScales, outputScale, outputChannels);
    KernelUtil.QuantizedRange range =
        KernelUtil.activationRangeQuantized(activation, outputScale, outputZeroPoint, qmin, qmax);
    return new QuantizedParams(-inputZeroPoint, outputZeroPoint, depthMultiplier, KernelUtil.multipliers(qms),
        KernelUtil.shifts(qms), range.min(), range.max());
  }

  /**
   * The filter packed at prepare time for {@link #evalInt8}: one row per tap, {@code packed[fy * fW + fx][oc]},
   * widened to int.
   */
  public static int[][] packInt8(byte[] filter, int filterHeight, int filterWidth, int outputDepth) {
    int[][] packed = new int[filterHeight * filterWidth][outputDepth];
    for (int t = 0; t < packed.length; t++) {
      for (int oc = 0; oc < outputDepth; oc++) {
        packed[t][oc] = filter[t * outputDepth + oc];
      }
    }
    return packed;
  }

  /** The float filter, one row per tap, for {@link #evalFloat}. */
  public static float[][] packFloat(float[] filter, int filterHeight, int filterWidth, int outputDepth) {
    float[][] packed = new float[filterHeight * filterWidth][outputDepth];
    for (int t = 0; t < packed.length; t++) {
      System.arraycopy(filter, t * outputDepth, packed[t], 0, outputDepth);
    }
    return packed;
  }

  /**
   * Per image, every input pixel is first widened to one int row per pixel holding {@code q + inputOffset} for
   * each output channel ({@code ic = oc / depthMultiplier}); then each output pixel sums {@code packed[tap][oc] *
   * row[oc]} over the taps inside the input, along contiguous channels. The same sum as the reference.
   *
   * @param packed {@link #packInt8}
   */
  public static void evalInt8(QuantizedParams p, ConvGeometry g, byte[] input, int[][] packed, int[] bias,
      byte[] output, KernelScratch scratch) {
    final int inputOffset = p.inputOffset();
    final int outputOffset = p.outputOffset();
    final int depthMultiplier = p.depthMultiplier();
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
    final int[][] rows = scratch.intRowsA(inH * inW, outD);
    final int[] acc = scratch.intRowsB(1, outD)[0];
    for (int b = 0; b < g.batches(); b++) {
      for (int pixel = 0; pixel < inH * inW; pixel++) {
        final int[] row = rows[pixel];
        final int inBase = (b * inH * inW + pixel) * inD;
        for (int oc = 0; oc < outD; oc++) {
          row[oc] = input[inBase + oc / depthMultiplier] + inputOffset;
        }
      }
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        for (int outX = 0; outX < g.outputWidth(); outX++) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          final int outBase = ((b * g.outputHeight() + outY) * g.outputWidth() + outX) * outD;
          if (bias == null) {
            java.util.Arrays.fill(acc, 0, outD, 0);
          } else {
            System.arraycopy(bias, 0, acc, 0, outD);
          }
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
              final int[] w = packed[fy * fW + fx];
              final int[] x = rows[inY * inW + inX];
              for (int oc = 0; oc < outD; oc++) {
                acc[oc] += w[oc] * x[oc];
              }
            }
          }
          for (int oc = 0; oc < outD; oc++) {
            // TFLite's own depthwise kernels: common.h double rounding (unlike CONV_2D and FC, which go through ruy)
            int v = FixedPoint.multiplyByQuantizedMultiplier(acc[oc], outputMultiplier[oc], outputShift[oc])
                + outputOffset;
            output[outBase + oc] = (byte) KernelUtil.clamp(v, outputActivationMin, outputActivationMax);
          }
        }
      }
    }
  }

  /** 16x8: int16 activations (zero point 0), int8 filter, int64 bias and accumulator. */
  public static void evalInt16(QuantizedParams p, ConvGeometry g, short[] input, byte[] filter, long[] bias,
      short[] output) {
    final int depthMultiplier = p.depthMultiplier();
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
    for (int b = 0; b < g.batches(); b++) {
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        for (int outX = 0; outX < g.outputWidth(); outX++) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          final int outBase = ((b * g.outputHeight() + outY) * g.outputWidth() + outX) * outD;
          for (int ic = 0; ic < inD; ic++) {
            for (int m = 0; m < depthMultiplier; m++) {
              final int oc = ic * depthMultiplier + m;
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
                  acc += filter[(fy * fW + fx) * outD + oc] * input[((b * inH + inY) * inW + inX) * inD + ic];
                }
              }
              if (bias != null) {
                acc += bias[oc];
              }
              int scaled = FixedPoint.multiplyByQuantizedMultiplier(acc, outputMultiplier[oc], outputShift[oc]);
              output[outBase + oc] = (short) KernelUtil.clamp(scaled, outputActivationMin, outputActivationMax);
            }
          }
        }
      }
    }
  }

  /**
   * Shaped as {@link #evalInt8}: {@code out = clamp((sum over the taps inside the input, in (fy, fx) order, of
   * input * filter) + bias)}, the order the reference kernel uses, whatever the batch.
   *
   * @param packed {@link #packFloat}
   */
  public static void evalFloat(KernelUtil.FloatRange activation, int depthMultiplier, ConvGeometry g, float[] input,
      float[][] packed, float[] bias, float[] output, KernelScratch scratch) {
    final float min = activation.min();
    final float max = activation.max();
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    final int inD = g.inputDepth();
    final int outD = g.outputDepth();
    final int fH = g.filterHeight();
    final int fW = g.filterWidth();
    final float[][] rows = scratch.floatRowsA(inH * inW, outD);
    final float[] acc = scratch.floatRowsB(1, outD)[0];
    for (int b = 0; b < g.batches(); b++) {
      for (int pixel = 0; pixel < inH * inW; pixel++) {
        final float[] row = rows[pixel];
        final int inBase = (b * inH * inW + pixel) * inD;
        for (int oc = 0; oc < outD; oc++) {
          row[oc] = input[inBase + oc / depthMultiplier];
        }
      }
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        for (int outX = 0; outX < g.outputWidth(); outX++) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          final int outBase = ((b * g.outputHeight() + outY) * g.outputWidth() + outX) * outD;
          java.util.Arrays.fill(acc, 0, outD, 0f);
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
              final float[] w = packed[fy * fW + fx];
              final float[] x = rows[inY * inW + inX];
              for (int oc = 0; oc < outD; oc++) {
                acc[oc] += x[oc] * w[oc];
              }
            }
          }
          for (int oc = 0; oc < outD; oc++) {
            output[outBase + oc] = KernelUtil.clamp(bias == null ? acc[oc] : acc[oc] + bias[oc], min, max);
          }
        }
      }
    }
  }

  /**
   * Hybrid (dynamic-range) DEPTHWISE_CONV_2D as depthwise_conv.cc EvalHybridPerChannel: each batch's input
   * is quantized asymmetrically on the fly, {@code acc = sum(w * (q - zeroPoint[b]))} over the taps inside
   * the input, {@code out = (float) acc * (filterScale[c] * scale[b]) + bias[c]}, clamped.
   */
  public static void evalHybrid(KernelUtil.FloatRange activation, int depthMultiplier, ConvGeometry g,
      float[] input, byte[] filter, float[] filterScales, float[] bias, float[] output) {
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    final int inD = g.inputDepth();
    final int outD = g.outputDepth();
    final int fH = g.filterHeight();
    final int fW = g.filterWidth();
    final int inputSize = inH * inW * inD;
    byte[] quantized = new byte[input.length];
    for (int b = 0; b < g.batches(); b++) {
      TensorUtils.QuantizedVector qv =
          TensorUtils.asymmetricQuantizeFloats(input, b * inputSize, inputSize, quantized);
      final int inputOffset = qv.zeroPoint();
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        for (int outX = 0; outX < g.outputWidth(); outX++) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          final int outBase = ((b * g.outputHeight() + outY) * g.outputWidth() + outX) * outD;
          for (int ic = 0; ic < inD; ic++) {
            for (int m = 0; m < depthMultiplier; m++) {
              final int oc = ic * depthMultiplier + m;
              int acc = 0;
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
                  acc += filter[(fy * fW + fx) * outD + oc]
                      * (quantized[((b * inH + inY) * inW + inX) * inD + ic] - inputOffset);
                }
              }
              float filterScale = filterScales.length == 1 ? filterScales[0] : filterScales[oc];
              float accFloat = acc;
              accFloat *= filterScale * qv.scalingFactor();
              if (bias != null) {
                accFloat += bias[oc];
              }
              output[outBase + oc] = KernelUtil.clamp(accFloat, activation.min(), activation.max());
            }
          }
        }
      }
    }
  }
}
