package io.sparkquant.ops.tflite;

/**
 * Affine quantization of one tensor: {@code real = scale[c] * (q - zeroPoint[c])}. One entry per
 * channel along {@code quantizedDimension}, or a single entry for per-tensor quantization.
 */
public record TfliteQuantization(float[] scale, long[] zeroPoint, int quantizedDimension) {

  public TfliteQuantization {
    if (scale.length == 0 || scale.length != zeroPoint.length) {
      throw new IllegalArgumentException("scale and zeroPoint must be non-empty and of equal length, got "
          + scale.length + " and " + zeroPoint.length);
    }
  }

  public static TfliteQuantization perTensor(float scale, long zeroPoint) {
    return new TfliteQuantization(new float[] {scale}, new long[] {zeroPoint}, 0);
  }

  public boolean isPerChannel() {
    return scale.length > 1;
  }
}
