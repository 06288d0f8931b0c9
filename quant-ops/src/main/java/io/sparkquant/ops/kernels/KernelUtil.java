package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * Shared prepare-time helpers: fused activation ranges
 * (kernels/kernel_util.cc CalculateActivationRange[Quantized]) and the conv multiplier formula.
 */
public final class KernelUtil {

  private KernelUtil() {}

  /** An inclusive clamp range in the quantized domain: {@code outputActivationMin/Max}. */
  public record QuantizedRange(int min, int max) {}

  /** A float clamp range for float kernels. */
  public record FloatRange(float min, float max) {}

  /**
   * CalculateActivationRangeQuantized: the fused activation narrows [qmin, qmax] to the quantized images
   * of its bounds, {@code zeroPoint + roundf(f / scale)} computed in float as TFLite does.
   */
  public static QuantizedRange activationRangeQuantized(FusedActivation activation, float outputScale,
      int outputZeroPoint, int qmin, int qmax) {
    return switch (activation) {
      case NONE -> new QuantizedRange(qmin, qmax);
      case RELU -> new QuantizedRange(Math.max(qmin, quantizeBound(0f, outputScale, outputZeroPoint)), qmax);
      case RELU6 -> new QuantizedRange(Math.max(qmin, quantizeBound(0f, outputScale, outputZeroPoint)),
          Math.min(qmax, quantizeBound(6f, outputScale, outputZeroPoint)));
      case RELU_N1_TO_1 -> new QuantizedRange(Math.max(qmin, quantizeBound(-1f, outputScale, outputZeroPoint)),
          Math.min(qmax, quantizeBound(1f, outputScale, outputZeroPoint)));
      default -> throw new IllegalArgumentException("fused activation " + activation
          + " is not supported on quantized kernels; supported: NONE, RELU, RELU6, RELU_N1_TO_1");
    };
  }

  private static int quantizeBound(float f, float scale, int zeroPoint) {
    return zeroPoint + FixedPoint.roundHalfAwayFromZero(f / scale);
  }

  /** CalculateActivationRange for float kernels. */
  public static FloatRange activationRangeFloat(FusedActivation activation) {
    return switch (activation) {
      case NONE -> new FloatRange(-Float.MAX_VALUE, Float.MAX_VALUE);
      case RELU -> new FloatRange(0f, Float.MAX_VALUE);
      case RELU6 -> new FloatRange(0f, 6f);
      case RELU_N1_TO_1 -> new FloatRange(-1f, 1f);
      default -> throw new IllegalArgumentException("fused activation " + activation
          + " is not supported; supported: NONE, RELU, RELU6, RELU_N1_TO_1");
    };
  }

  /** ActivationFunctionWithMinMax for floats (std::min(std::max(x, min), max)). */
  public static float clamp(float x, float min, float max) {
    return Math.min(Math.max(x, min), max);
  }

  public static int clamp(int x, int min, int max) {
    return Math.min(Math.max(x, min), max);
  }

  /**
   * The effective conv/FC multiplier, {@code inputScale * filterScale / outputScale}, in double from the
   * float scales (GetQuantizedConvolutionMultipler, PopulateConvolutionQuantizationParams).
   */
  public static double effectiveScale(float inputScale, float filterScale, float outputScale) {
    return (double) inputScale * (double) filterScale / (double) outputScale;
  }

  /** Per-channel multipliers for per-channel (or broadcast per-tensor) filter scales. */
  public static FixedPoint.QuantizedMultiplier[] perChannelMultipliers(float inputScale, float[] filterScales,
      float outputScale, int channels) {
    if (filterScales.length != 1 && filterScales.length != channels) {
      throw new IllegalArgumentException("filter has " + filterScales.length + " scales; expected 1 or "
          + channels + " (one per output channel)");
    }
    FixedPoint.QuantizedMultiplier[] out = new FixedPoint.QuantizedMultiplier[channels];
    for (int c = 0; c < channels; c++) {
      float filterScale = filterScales.length == 1 ? filterScales[0] : filterScales[c];
      out[c] = FixedPoint.quantizeMultiplier(effectiveScale(inputScale, filterScale, outputScale));
    }
    return out;
  }

  static int[] multipliers(FixedPoint.QuantizedMultiplier[] qms) {
    int[] m = new int[qms.length];
    for (int i = 0; i < qms.length; i++) {
      m[i] = qms[i].quantizedMultiplier();
    }
    return m;
  }

  static int[] shifts(FixedPoint.QuantizedMultiplier[] qms) {
    int[] s = new int[qms.length];
    for (int i = 0; i < qms.length; i++) {
      s[i] = qms[i].shift();
    }
    return s;
  }
}
