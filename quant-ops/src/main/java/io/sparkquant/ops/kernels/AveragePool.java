package io.sparkquant.ops.kernels;

/**
 * AVERAGE_POOL_2D (reference_integer_ops/pooling.h AveragePool, reference/pooling.h). Input and output
 * share scale and zero point; the window is clipped to the input and divided by the number of elements
 * it covers, rounding half away from zero: {@code acc > 0 ? (acc + n/2) / n : (acc - n/2) / n}.
 */
public final class AveragePool {

  private AveragePool() {}

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
          final int filterCount = (fyEnd - fyStart) * (fxEnd - fxStart);
          final int outBase = ((b * g.outputHeight() + outY) * g.outputWidth() + outX) * depth;
          for (int c = 0; c < depth; c++) {
            int acc = 0;
            for (int fy = fyStart; fy < fyEnd; fy++) {
              for (int fx = fxStart; fx < fxEnd; fx++) {
                acc += input[((b * g.inputHeight() + inYOrigin + fy) * g.inputWidth() + inXOrigin + fx) * depth + c];
              }
            }
            output[outBase + c] = (byte) KernelUtil.clamp(roundedDivide(acc, filterCount), outputActivationMin,
                outputActivationMax);
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
          final int filterCount = (fyEnd - fyStart) * (fxEnd - fxStart);
          final int outBase = ((b * g.outputHeight() + outY) * g.outputWidth() + outX) * depth;
          for (int c = 0; c < depth; c++) {
            int acc = 0;
            for (int fy = fyStart; fy < fyEnd; fy++) {
              for (int fx = fxStart; fx < fxEnd; fx++) {
                acc += input[((b * g.inputHeight() + inYOrigin + fy) * g.inputWidth() + inXOrigin + fx) * depth + c];
              }
            }
            output[outBase + c] = (short) KernelUtil.clamp(roundedDivide(acc, filterCount), outputActivationMin,
                outputActivationMax);
          }
        }
      }
    }
  }

  /** TFLite's "round to the closest integer value": half away from zero, C division truncating. */
  static int roundedDivide(int acc, int count) {
    return acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
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
          final int filterCount = (fyEnd - fyStart) * (fxEnd - fxStart);
          final int outBase = ((b * g.outputHeight() + outY) * g.outputWidth() + outX) * depth;
          for (int c = 0; c < depth; c++) {
            float acc = 0;
            for (int fy = fyStart; fy < fyEnd; fy++) {
              for (int fx = fxStart; fx < fxEnd; fx++) {
                acc += input[((b * g.inputHeight() + inYOrigin + fy) * g.inputWidth() + inXOrigin + fx) * depth + c];
              }
            }
            output[outBase + c] = KernelUtil.clamp(acc / filterCount, activation.min(), activation.max());
          }
        }
      }
    }
  }
}
