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

  /** Batches of at least this many rows take the lanes path where it fits ({@link #lanes}). */
  public static final int MIN_LANES = 16;

  private static final int MAX_LANES = 64;

  /**
   * Elements of a transposed patch: about 256 KB of ints or floats, so that every block of output channels reads it
   * from cache.
   */
  private static final int PATCH_ELEMENTS = 1 << 16;

  /** Output pixels per tile of the im2col path. */
  static int pixelTile(int patchSize, int pixels) {
    return Math.min(pixels, Math.max(16, PATCH_ELEMENTS / patchSize));
  }

  /**
   * Rows of the batch that the lanes path lays side by side, or 0 where it does not apply: batches of fewer than
   * {@link #MIN_LANES} rows, and output rows so wide that the patch of {@link #MIN_LANES} rows would not fit.
   */
  public static int lanes(ConvGeometry g, int patchSize) {
    long perLane = (long) patchSize * g.outputWidth();
    if (g.batches() < MIN_LANES || perLane * MIN_LANES > PATCH_ELEMENTS) {
      return 0;
    }
    return (int) Math.min(g.batches(), Math.min(MAX_LANES, PATCH_ELEMENTS / perLane));
  }

  /**
   * As im2col + GEMM: a tile of output pixels is laid out as a transposed patch, {@code patch[k][j]} = tap k of pixel
   * j as {@code q + inputOffset} (0 where the filter hangs over the border, which is what skipping those taps
   * contributes), then each accumulator row {@code acc[j] = bias + sum_k filter[oc][k] * patch[k][j]} runs over
   * contiguous pixels, four output channels at a time. Exact in int32 like the reference: the sum is the same, only
   * its order differs. The tiles come from {@link #im2col}, or for batches of many rows from the lanes path
   * ({@link #lanePatch}), which copies whole patch rows instead of scattering every input value over them.
   */
  public static void evalInt8(QuantizedParams p, ConvGeometry g, byte[] input, byte[] filter, int[] bias,
      byte[] output, KernelScratch scratch) {
    final int patchSize = g.filterHeight() * g.filterWidth() * g.inputDepth();
    final int lanes = lanes(g, patchSize);
    if (lanes > 0) {
      final int tile = g.outputWidth() * lanes;
      final int[][] patch = scratch.intRowsA(patchSize, tile);
      final int[][] acc = scratch.intRowsB(CHANNEL_BLOCK, tile);
      final int[] pixel = scratch.pixelRow(tile);
      final int[] in = scratch.intRowC(Planar.of(g, lanes).size());
      for (int b0 = 0; b0 < g.batches(); b0 += lanes) {
        final Planar planar = Planar.of(g, Math.min(lanes, g.batches() - b0)); // the last group may be smaller
        planar.fill(g, input, p.inputOffset(), b0, in);
        for (int y = 0; y < g.outputHeight(); y++) {
          int len = lanePatch(g, planar, in, b0, y, patch, pixel);
          int8Tile(p, g.outputDepth(), patchSize, filter, bias, patch, pixel, len, acc, output);
        }
      }
      return;
    }
    final int pixels = g.batches() * g.outputHeight() * g.outputWidth();
    final int tile = pixelTile(patchSize, pixels);
    final int[][] patch = scratch.intRowsA(patchSize, tile);
    final int[][] acc = scratch.intRowsB(CHANNEL_BLOCK, tile);
    final int[] pixel = scratch.pixelRow(tile);
    for (int n0 = 0; n0 < pixels; n0 += tile) {
      final int len = Math.min(tile, pixels - n0);
      im2col(g, input, p.inputOffset(), n0, len, patch);
      for (int j = 0; j < len; j++) {
        pixel[j] = n0 + j;
      }
      int8Tile(p, g.outputDepth(), patchSize, filter, bias, patch, pixel, len, acc, output);
    }
  }

  /** The output pixels {@code pixel[0..len)} (batch-major indices) of a tile from its transposed patch. */
  private static void int8Tile(QuantizedParams p, int outD, int patchSize, byte[] filter, int[] bias, int[][] patch,
      int[] pixel, int len, int[][] acc, byte[] output) {
    final int outputOffset = p.outputOffset();
    final int outputActivationMin = p.outputActivationMin();
    final int outputActivationMax = p.outputActivationMax();
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
        final int multiplier = p.outputMultiplier()[oc];
        final int shift = p.outputShift()[oc];
        for (int j = 0; j < len; j++) {
          output[pixel[j] * outD + oc] = (byte) outputStage(a[j], multiplier, shift, outputOffset,
              outputActivationMin, outputActivationMax);
        }
      }
    }
  }

  /**
   * The lanes path's copy of the input: {@code lanes} rows of the batch, channel-planar with the rows innermost,
   * {@code in[((ic * height + y) * width + x) * lanes + b]} for input pixel (y - top, x - left), in a frame of zeros
   * as wide as the filter reaches past the input's border. The taps of one output row at one filter position then lie
   * side by side: {@code lanes} values per output pixel, and for stride 1 the whole row in one run.
   */
  record Planar(int depth, int height, int width, int top, int left, int lanes) {

    static Planar of(ConvGeometry g, int lanes) {
      int top = g.padHeight();
      int left = g.padWidth();
      int reachH = (g.outputHeight() - 1) * g.strideHeight() + (g.filterHeight() - 1) * g.dilationHeight() + 1;
      int reachW = (g.outputWidth() - 1) * g.strideWidth() + (g.filterWidth() - 1) * g.dilationWidth() + 1;
      return new Planar(g.inputDepth(), Math.max(g.inputHeight() + top, reachH),
          Math.max(g.inputWidth() + left, reachW), top, left, lanes);
    }

    int size() {
      return depth * height * width * lanes;
    }

    /** Whether the frame around the input is empty, so that every element is overwritten by the input. */
    boolean unframed(ConvGeometry g) {
      return top == 0 && left == 0 && height == g.inputHeight() && width == g.inputWidth();
    }

    /** Copies rows b0 .. b0 + lanes - 1 of an int8 input, as {@code q + inputOffset}. */
    void fill(ConvGeometry g, byte[] input, int inputOffset, int b0, int[] in) {
      if (!unframed(g)) {
        java.util.Arrays.fill(in, 0, size(), 0);
      }
      final int plane = height * width * lanes;
      for (int b = 0; b < lanes; b++) {
        for (int y = 0; y < g.inputHeight(); y++) {
          int src = ((b0 + b) * g.inputHeight() + y) * g.inputWidth() * depth;
          int dst = ((y + top) * width + left) * lanes + b;
          for (int x = 0; x < g.inputWidth(); x++, dst += lanes) {
            for (int ic = 0, d = dst; ic < depth; ic++, d += plane) {
              in[d] = input[src++] + inputOffset;
            }
          }
        }
      }
    }

    /** Copies rows b0 .. b0 + lanes - 1 of a float input. */
    void fill(ConvGeometry g, float[] input, int b0, float[] in) {
      if (!unframed(g)) {
        java.util.Arrays.fill(in, 0, size(), 0f);
      }
      final int plane = height * width * lanes;
      for (int b = 0; b < lanes; b++) {
        for (int y = 0; y < g.inputHeight(); y++) {
          int src = ((b0 + b) * g.inputHeight() + y) * g.inputWidth() * depth;
          int dst = ((y + top) * width + left) * lanes + b;
          for (int x = 0; x < g.inputWidth(); x++, dst += lanes) {
            for (int ic = 0, d = dst; ic < depth; ic++, d += plane) {
              in[d] = input[src++];
            }
          }
        }
      }
    }
  }

  /**
   * The lanes path's tile: output row {@code y} of batch rows b0 .. b0 + lanes - 1, pixel j = x * lanes + b: its
   * transposed patch, copied from the planar input ({@code in} an int[] or a float[], {@code patch} rows of the same
   * type), and its output pixel indices; returns the tile's length.
   */
  private static int lanePatch(ConvGeometry g, Planar planar, Object in, int b0, int y, Object[] patch,
      int[] pixel) {
    final int lanes = planar.lanes();
    final int outW = g.outputWidth();
    final int len = outW * lanes;
    final int sW = g.strideWidth();
    int k = 0;
    for (int fy = 0; fy < g.filterHeight(); fy++) {
      final int inY = y * g.strideHeight() + fy * g.dilationHeight();
      for (int fx = 0; fx < g.filterWidth(); fx++) {
        for (int ic = 0; ic < planar.depth(); ic++, k++) {
          final int src = ((ic * planar.height() + inY) * planar.width() + fx * g.dilationWidth()) * lanes;
          if (sW == 1) {
            System.arraycopy(in, src, patch[k], 0, len);
          } else {
            for (int x = 0; x < outW; x++) {
              System.arraycopy(in, src + x * sW * lanes, patch[k], x * lanes, lanes);
            }
          }
        }
      }
    }
    final int image = g.outputHeight() * outW;
    for (int x = 0, j = 0; x < outW; x++) {
      for (int b = 0; b < lanes; b++, j++) {
        pixel[j] = (b0 + b) * image + y * outW + x;
      }
    }
    return len;
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

  /**
   * The float kernel, shaped as {@link #evalInt8}: every output is {@code (sum over k in patch order of
   * filter[oc][k] * patch[k]) + bias[oc]}, taps over the border adding {@code filter * 0}, in the same order
   * whatever the batch, tile and path, so a row's output does not depend on the rows beside it.
   */
  public static void evalFloat(KernelUtil.FloatRange activation, ConvGeometry g, float[] input, float[] filter,
      float[] bias, float[] output, KernelScratch scratch) {
    final int patchSize = g.filterHeight() * g.filterWidth() * g.inputDepth();
    final int lanes = lanes(g, patchSize);
    if (lanes > 0) {
      final int tile = g.outputWidth() * lanes;
      final float[][] patch = scratch.floatRowsA(patchSize, tile);
      final float[][] acc = scratch.floatRowsB(CHANNEL_BLOCK, tile);
      final int[] pixel = scratch.pixelRow(tile);
      final float[] in = scratch.floatRowC(Planar.of(g, lanes).size());
      for (int b0 = 0; b0 < g.batches(); b0 += lanes) {
        final Planar planar = Planar.of(g, Math.min(lanes, g.batches() - b0));
        planar.fill(g, input, b0, in);
        for (int y = 0; y < g.outputHeight(); y++) {
          int len = lanePatch(g, planar, in, b0, y, patch, pixel);
          floatTile(activation, g.outputDepth(), patchSize, filter, bias, patch, pixel, len, acc, output);
        }
      }
      return;
    }
    final int pixels = g.batches() * g.outputHeight() * g.outputWidth();
    final int tile = pixelTile(patchSize, pixels);
    final float[][] patch = scratch.floatRowsA(patchSize, tile);
    final float[][] acc = scratch.floatRowsB(CHANNEL_BLOCK, tile);
    final int[] pixel = scratch.pixelRow(tile);
    for (int n0 = 0; n0 < pixels; n0 += tile) {
      final int len = Math.min(tile, pixels - n0);
      im2col(g, input, n0, len, patch);
      for (int j = 0; j < len; j++) {
        pixel[j] = n0 + j;
      }
      floatTile(activation, g.outputDepth(), patchSize, filter, bias, patch, pixel, len, acc, output);
    }
  }

  /** The output pixels {@code pixel[0..len)} of a tile from its transposed patch, each sum in patch order. */
  private static void floatTile(KernelUtil.FloatRange activation, int outD, int patchSize, float[] filter,
      float[] bias, float[][] patch, int[] pixel, int len, float[][] acc, float[] output) {
    final float min = activation.min();
    final float max = activation.max();
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
        for (int j = 0; j < len; j++) {
          output[pixel[j] * outD + oc] = KernelUtil.clamp(bias == null ? a[j] : a[j] + b, min, max);
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
