package io.sparkquant.ops.kernels;

/**
 * MAX_POOL_2D (reference_integer_ops/pooling.h MaxPool, reference/pooling.h). Input and output share
 * scale and zero point, so the quantized maximum is the output; the fused activation only clamps.
 * The window is clipped to the input (padding never wins the maximum).
 *
 * <p>Each output pixel folds its window taps in order (rows, then columns) into the output row, one tap's channels
 * at a time: contiguous reads and writes, rather than one channel's window at a time (measured: pooling was a
 * quarter of the cnn preset's time with the channel loop outermost). Per channel the fold order is the same.
 */
public final class MaxPool {

  private MaxPool() {}

  public static void evalInt8(ConvGeometry g, int outputActivationMin, int outputActivationMax, byte[] input,
      byte[] output) {
    final int depth = g.inputDepth();
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    int outBase = 0;
    for (int b = 0; b < g.batches(); b++) {
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        final int fyStart = Math.max(0, -inYOrigin);
        final int fyEnd = Math.min(g.filterHeight(), inH - inYOrigin);
        for (int outX = 0; outX < g.outputWidth(); outX++, outBase += depth) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          final int fxStart = Math.max(0, -inXOrigin);
          final int fxEnd = Math.min(g.filterWidth(), inW - inXOrigin);
          java.util.Arrays.fill(output, outBase, outBase + depth, Byte.MIN_VALUE);
          for (int fy = fyStart; fy < fyEnd; fy++) {
            for (int fx = fxStart; fx < fxEnd; fx++) {
              final int inBase = ((b * inH + inYOrigin + fy) * inW + inXOrigin + fx) * depth;
              for (int c = 0; c < depth; c++) {
                output[outBase + c] = (byte) Math.max(output[outBase + c], input[inBase + c]);
              }
            }
          }
          for (int c = 0; c < depth; c++) {
            output[outBase + c] =
                (byte) KernelUtil.clamp(output[outBase + c], outputActivationMin, outputActivationMax);
          }
        }
      }
    }
  }

  public static void evalInt16(ConvGeometry g, int outputActivationMin, int outputActivationMax, short[] input,
      short[] output) {
    final int depth = g.inputDepth();
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    int outBase = 0;
    for (int b = 0; b < g.batches(); b++) {
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        final int fyStart = Math.max(0, -inYOrigin);
        final int fyEnd = Math.min(g.filterHeight(), inH - inYOrigin);
        for (int outX = 0; outX < g.outputWidth(); outX++, outBase += depth) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          final int fxStart = Math.max(0, -inXOrigin);
          final int fxEnd = Math.min(g.filterWidth(), inW - inXOrigin);
          java.util.Arrays.fill(output, outBase, outBase + depth, Short.MIN_VALUE);
          for (int fy = fyStart; fy < fyEnd; fy++) {
            for (int fx = fxStart; fx < fxEnd; fx++) {
              final int inBase = ((b * inH + inYOrigin + fy) * inW + inXOrigin + fx) * depth;
              for (int c = 0; c < depth; c++) {
                output[outBase + c] = (short) Math.max(output[outBase + c], input[inBase + c]);
              }
            }
          }
          for (int c = 0; c < depth; c++) {
            output[outBase + c] =
                (short) KernelUtil.clamp(output[outBase + c], outputActivationMin, outputActivationMax);
          }
        }
      }
    }
  }

  public static void evalFloat(ConvGeometry g, KernelUtil.FloatRange activation, float[] input, float[] output) {
    final float min = activation.min();
    final float max = activation.max();
    final int depth = g.inputDepth();
    final int inH = g.inputHeight();
    final int inW = g.inputWidth();
    int outBase = 0;
    for (int b = 0; b < g.batches(); b++) {
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        final int fyStart = Math.max(0, -inYOrigin);
        final int fyEnd = Math.min(g.filterHeight(), inH - inYOrigin);
        for (int outX = 0; outX < g.outputWidth(); outX++, outBase += depth) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          final int fxStart = Math.max(0, -inXOrigin);
          final int fxEnd = Math.min(g.filterWidth(), inW - inXOrigin);
          java.util.Arrays.fill(output, outBase, outBase + depth, -Float.MAX_VALUE);
          for (int fy = fyStart; fy < fyEnd; fy++) {
            for (int fx = fxStart; fx < fxEnd; fx++) {
              final int inBase = ((b * inH + inYOrigin + fy) * inW + inXOrigin + fx) * depth;
              for (int c = 0; c < depth; c++) {
                output[outBase + c] = Math.max(output[outBase + c], input[inBase + c]);
              }
            }
          }
          for (int c = 0; c < depth; c++) {
            output[outBase + c] = KernelUtil.clamp(output[outBase + c], min, max);
          }
        }
      }
    }
  }
}
