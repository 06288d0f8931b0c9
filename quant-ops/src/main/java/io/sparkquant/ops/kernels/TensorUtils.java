package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * The on-the-fly input quantization of hybrid kernels (kernels/internal/reference/portable_tensor_utils.cc
 * PortableSymmetricQuantizeFloats / PortableAsymmetricQuantizeFloats), bit for bit: the float and double
 * steps are kept where TFLite has them.
 */
public final class TensorUtils {

  private TensorUtils() {}

  /** One quantized row: {@code real = scalingFactor * (q - zeroPoint)}. */
  public record QuantizedVector(float scalingFactor, int zeroPoint) {}

  /** Symmetric: scale = max|x| / 127, q = round(x * 127 / max|x|) clamped to [-127, 127]; all-zero gives scale 1. */
  public static QuantizedVector symmetricQuantizeFloats(float[] values, int offset, int size, byte[] quantized) {
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (int i = offset; i < offset + size; i++) {
      min = Math.min(min, values[i]);
      max = Math.max(max, values[i]);
    }
    final int kScale = 127;
    float range = Math.max(Math.abs(min), Math.abs(max));
    if (range == 0) {
      java.util.Arrays.fill(quantized, offset, offset + size, (byte) 0);
      return new QuantizedVector(1f, 0);
    }
    float scalingFactor = range / kScale;
    float scalingFactorInv = kScale / range;
    for (int i = offset; i < offset + size; i++) {
      int q = FixedPoint.roundHalfAwayFromZero(values[i] * scalingFactorInv);
      quantized[i] = (byte) Math.min(kScale, Math.max(-kScale, q));
    }
    return new QuantizedVector(scalingFactor, 0);
  }

  /**
   * Asymmetric: the range is extended to hold 0, scale = (rmax - rmin) / 255 in double, the zero point
   * from whichever end has the smaller error, q = round(zeroPoint + x / scale) with a float reciprocal.
   */
  public static QuantizedVector asymmetricQuantizeFloats(float[] values, int offset, int size, byte[] quantized) {
    final int kMinScale = -128;
    final int kMaxScale = 127;
    final double qminDouble = kMinScale;
    final double qmaxDouble = kMaxScale;
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (int i = offset; i < offset + size; i++) {
      min = Math.min(min, values[i]);
      max = Math.max(max, values[i]);
    }
    final double rmin = Math.min(0, (double) min);
    final double rmax = Math.max(0, (double) max);
    if (rmin == rmax) {
      java.util.Arrays.fill(quantized, offset, offset + size, (byte) 0);
      return new QuantizedVector(1f, 0);
    }
    double scale = (rmax - rmin) / (qmaxDouble - qminDouble);
    final double zeroPointFromMin = qminDouble - rmin / scale;
    final double zeroPointFromMax = qmaxDouble - rmax / scale;
    final double zeroPointFromMinError = Math.abs(qminDouble) + Math.abs(rmin / scale);
    final double zeroPointFromMaxError = Math.abs(qmaxDouble) + Math.abs(rmax / scale);
    final double zeroPointDouble =
        zeroPointFromMinError < zeroPointFromMaxError ? zeroPointFromMin : zeroPointFromMax;
    int nudgedZeroPoint;
    if (zeroPointDouble <= qminDouble) {
      nudgedZeroPoint = kMinScale;
    } else if (zeroPointDouble >= qmaxDouble) {
      nudgedZeroPoint = kMaxScale;
    } else {
      nudgedZeroPoint = (int) FixedPoint.roundHalfAwayFromZero(zeroPointDouble);
    }
    float scalingFactor = (float) scale;
    float scalingFactorInv = 1.0f / scalingFactor;
    for (int i = offset; i < offset + size; i++) {
      // *offset + values[i] * scaling_factor_inv: int + float in float
      int q = FixedPoint.roundHalfAwayFromZero(nudgedZeroPoint + values[i] * scalingFactorInv);
      quantized[i] = (byte) Math.min(kMaxScale, Math.max(kMinScale, q));
    }
    return new QuantizedVector(scalingFactor, nudgedZeroPoint);
  }
}
