package io.sparkquant.ops.kernels;

/**
 * MAX_POOL_2D (reference_integer_ops/pooling.h MaxPool, reference/pooling.h). Input and output share
 * scale and zero point, so the quantized maximum is the output; the fused activation only clamps.
 * The window is clipped to the input (padding never wins the maximum).
 */
public final class MaxPool {

  private MaxPool() {}

  public static void evalInt8(ConvGeometry g, int outputActivationMin, int outputActivationMax, byte[] input,
      byte[] output) {
    final int depth = g.inputDepth();
    for (int b = 0; b < g.batches(); b++) {
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        final int fyStart = Math.max(0, -inYOrigin);
        final int fyEnd = Math.min(g.filterHeight(), g.inputHeight() - inYOrigin);
        for (int outX = 0; outX < g.outputWidth(); outX++) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          final int fxStart = Math.max(0, -inXOrigin);
          final int fxEnd = Math.min(g.filterWidth(), g.inputWidth() - inXOrigin);
          final int outBase = ((b * g.outputHeight() + outY) * g.outputWidth() + outX) * depth;
          for (int c = 0; c < depth; c++) {
            int max = Byte.MIN_VALUE;
            for (int fy = fyStart; fy < fyEnd; fy++) {
              for (int fx = fxStart; fx < fxEnd; fx++) {
                int inY = inYOrigin + fy;
                int inX = inXOrigin + fx;
                max = Math.max(max, input[((b * g.inputHeight() + inY) * g.inputWidth() + inX) * depth + c]);
              }
            }
            output[outBase + c] = (byte) KernelUtil.clamp(max, outputActivationMin, outputActivationMax);
          }
        }
      }
    }
  }

  public static void evalInt16(ConvGeometry g, int outputActivationMin, int outputActivationMax, short[] input,
      short[] output) {
    final int depth = g.inputDepth();
    for (int b = 0; b < g.batches(); b++) {
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        final int fyStart = Math.max(0, -inYOrigin);
        final int fyEnd = Math.min(g.filterHeight(), g.inputHeight() - inYOrigin);
        for (int outX = 0; outX < g.outputWidth(); outX++) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          final int fxStart = Math.max(0, -inXOrigin);
          final int fxEnd = Math.min(g.filterWidth(), g.inputWidth() - inXOrigin);
          final int outBase = ((b * g.outputHeight() + outY) * g.outputWidth() + outX) * depth;
          for (int c = 0; c < depth; c++) {
            int max = Short.MIN_VALUE;
            for (int fy = fyStart; fy < fyEnd; fy++) {
              for (int fx = fxStart; fx < fxEnd; fx++) {
                int inY = inYOrigin + fy;
                int inX = inXOrigin + fx;
                max = Math.max(max, input[((b * g.inputHeight() + inY) * g.inputWidth() + inX) * depth + c]);
              }
            }
            output[outBase + c] = (short) KernelUtil.clamp(max, outputActivationMin, outputActivationMax);
          }
        }
      }
    }
  }

  public static void evalFloat(ConvGeometry g, KernelUtil.FloatRange activation, float[] input, float[] output) {
    final int depth = g.inputDepth();
    for (int b = 0; b < g.batches(); b++) {
      for (int outY = 0; outY < g.outputHeight(); outY++) {
        final int inYOrigin = outY * g.strideHeight() - g.padHeight();
        final int fyStart = Math.max(0, -inYOrigin);
        final int fyEnd = Math.min(g.filterHeight(), g.inputHeight() - inYOrigin);
        for (int outX = 0; outX < g.outputWidth(); outX++) {
          final int inXOrigin = outX * g.strideWidth() - g.padWidth();
          final int fxStart = Math.max(0, -inXOrigin);
          final int fxEnd = Math.min(g.filterWidth(), g.inputWidth() - inXOrigin);
          final int outBase = ((b * g.outputHeight() + outY) * g.outputWidth() + outX) * depth;
          for (int c = 0; c < depth; c++) {
            float max = -Float.MAX_VALUE;
            for (int fy = fyStart; fy < fyEnd; fy++) {
              for (int fx = fxStart; fx < fxEnd; fx++) {
                int inY = inYOrigin + fy;
                int inX = inXOrigin + fx;
                max = Math.max(max, input[((b * g.inputHeight() + inY) * g.inputWidth() + inX) * depth + c]);
              }
            }
            output[outBase + c] = KernelUtil.clamp(max, activation.min(), activation.max());
          }
        }
      }
    }
  }
}
