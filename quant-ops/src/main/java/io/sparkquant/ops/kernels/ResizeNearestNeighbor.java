package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * RESIZE_NEAREST_NEIGHBOR (resize_nearest_neighbor.cc, reference_ops::ResizeNearestNeighbor) on NHWC: each output
 * pixel copies the depth vector of its nearest input pixel; values are copied, so quantized input and output share
 * parameters. With integer scale factors, {@code alignCorners = halfPixelCenters = false} repeats every pixel
 * factor times (DL4J's Upsampling2D).
 */
public final class ResizeNearestNeighbor {

  private ResizeNearestNeighbor() {}

  /** GetNearestNeighbor: the source index of output index {@code outIndex}; the scale is computed in float. */
  static int nearest(int outIndex, int inputSize, float scale, boolean alignCorners, boolean halfPixelCenters) {
    float offset = halfPixelCenters ? 0.5f : 0.0f;
    float pos = (outIndex + offset) * scale;
    int v = Math.min(alignCorners ? FixedPoint.roundHalfAwayFromZero(pos) : (int) Math.floor(pos), inputSize - 1);
    return halfPixelCenters ? Math.max(0, v) : v;
  }

  static float scale(int inputSize, int outputSize, boolean alignCorners) {
    return alignCorners && outputSize > 1 ? (inputSize - 1) / (float) (outputSize - 1)
        : inputSize / (float) outputSize;
  }

  /** {@code input} {@code [N, H, W, C]} (any primitive array) to {@code output} {@code [N, outH, outW, C]}. */
  public static void eval(int[] inShape, Object input, int outH, int outW, boolean alignCorners,
      boolean halfPixelCenters, Object output) {
    int batch = inShape[0], inH = inShape[1], inW = inShape[2], depth = inShape[3];
    float hScale = scale(inH, outH, alignCorners);
    float wScale = scale(inW, outW, alignCorners);
    int dst = 0;
    for (int n = 0; n < batch; n++) {
      for (int y = 0; y < outH; y++) {
        int inY = nearest(y, inH, hScale, alignCorners, halfPixelCenters);
        for (int x = 0; x < outW; x++) {
          int inX = nearest(x, inW, wScale, alignCorners, halfPixelCenters);
          System.arraycopy(input, ((n * inH + inY) * inW + inX) * depth, output, dst, depth);
          dst += depth;
        }
      }
    }
  }
}
