package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;
import java.util.Arrays;

/**
 * MEAN (kernels/reduce.cc EvalMean, optimized/integer_ops/mean.h, reference/reduce.h). TFLite 2.6.2
 * takes one of three int8 paths:
 * <ul>
 *   <li>keepDims, 4-D input, axes {1, 2} (a global average pool): reference_integer_ops::Mean, integer
 *       only (measured against the runtime: the float optimized_integer_ops variant is not what 2.6.2 runs);</li>
 *   <li>otherwise, same input and output parameters: int32 sum divided by the count, truncating;</li>
 *   <li>otherwise QuantizedMeanOrSum: {@code clamp(round(sum / count * s + bias) + zOut)} in float.</li>
 * </ul>
 * Exporters should write a global average pool as MEAN with keepDims (then RESHAPE) or AVERAGE_POOL_2D
 * over the whole image: both are integer-only; the other MEAN paths compute in float.
 */
public final class Mean {

  private Mean() {}

  /** The reduction of an input shape over a set of axes. */
  public record Reduction(int[] inputShape, int[] axes, boolean keepDims) {

    public Reduction {
      boolean[] seen = new boolean[inputShape.length];
      int[] resolved = new int[axes.length];
      for (int i = 0; i < axes.length; i++) {
        int a = axes[i] < 0 ? axes[i] + inputShape.length : axes[i];
        if (a < 0 || a >= inputShape.length) {
          throw new IllegalArgumentException("MEAN axis " + axes[i] + " is out of range for input shape "
              + Arrays.toString(inputShape));
        }
        resolved[i] = a;
        seen[a] = true;
      }
      axes = resolved;
    }

    boolean reduced(int dim) {
      for (int a : axes) {
        if (a == dim) {
          return true;
        }
      }
      return false;
    }

    public int[] outputShape() {
      int[] out = new int[inputShape.length];
      int n = 0;
      for (int d = 0; d < inputShape.length; d++) {
        if (reduced(d)) {
          if (keepDims) {
            out[n++] = 1;
          }
        } else {
          out[n++] = inputShape[d];
        }
      }
      return Arrays.copyOf(out, n);
    }

    /** The global-average-pool case that TFLite hands to its optimized int8 kernel. */
    public boolean isSpatial4d() {
      return keepDims && inputShape.length == 4 && axes.length == 2
          && ((axes[0] == 1 && axes[1] == 2) || (axes[0] == 2 && axes[1] == 1));
    }

    int elementsPerOutput() {
      int n = 1;
      for (int a : distinctAxes()) {
        n *= inputShape[a];
      }
      return n;
    }

    private int[] distinctAxes() {
      return Arrays.stream(axes).distinct().toArray();
    }

    /** For each flat input index, the flat output index it reduces into. */
    int[] outputIndex() {
      int rank = inputShape.length;
      int[] outStrides = new int[rank];
      int s = 1;
      for (int d = rank - 1; d >= 0; d--) {
        if (reduced(d)) {
          outStrides[d] = 0;
        } else {
          outStrides[d] = s;
          s *= inputShape[d];
        }
      }
      int flat = 1;
      for (int d : inputShape) {
        flat *= d;
      }
      int[] index = new int[flat];
      int[] pos = new int[rank];
      for (int k = 0; k < flat; k++) {
        int idx = 0;
        for (int d = 0; d < rank; d++) {
          idx += pos[d] * outStrides[d];
        }
        index[k] = idx;
        for (int d = rank - 1; d >= 0; d--) {
          if (++pos[d] < inputShape[d]) {
            break;
          }
          pos[d] = 0;
        }
      }
      return index;
    }

    int outputSize() {
      int n = 1;
      for (int d : outputShape()) {
        n *= d;
      }
      return n;
    }
  }

  /** @param multiplier from {@link #prepareMultiplier} */
  public static void evalInt8(Reduction r, byte[] input, float inputScale, int inputZeroPoint, byte[] output,
      float outputScale, int outputZeroPoint, FixedPoint.QuantizedMultiplier multiplier) {
    int[] widened = new int[input.length];
    for (int i = 0; i < input.length; i++) {
      widened[i] = input[i];
    }
    int[] out = evalQuantized(r, widened, inputScale, inputZeroPoint, outputScale, outputZeroPoint, multiplier,
        Byte.MIN_VALUE, Byte.MAX_VALUE);
    for (int o = 0; o < out.length; o++) {
      output[o] = (byte) out[o];
    }
  }

  /** int16 (zero points 0, as reduce.cc requires): the same three paths with the int16 range. */
  public static void evalInt16(Reduction r, short[] input, float inputScale, short[] output, float outputScale,
      FixedPoint.QuantizedMultiplier multiplier) {
    int[] widened = new int[input.length];
    for (int i = 0; i < input.length; i++) {
      widened[i] = input[i];
    }
    int[] out = evalQuantized(r, widened, inputScale, 0, outputScale, 0, multiplier, Short.MIN_VALUE,
        Short.MAX_VALUE);
    for (int o = 0; o < out.length; o++) {
      output[o] = (short) out[o];
    }
  }

  private static int[] evalQuantized(Reduction r, int[] input, float inputScale, int inputZeroPoint,
      float outputScale, int outputZeroPoint, FixedPoint.QuantizedMultiplier multiplier, int qmin, int qmax) {
    if (r.isSpatial4d()) {
      return meanSpatial(r, input, inputZeroPoint, outputZeroPoint, multiplier, qmin, qmax);
    }
    int[] index = r.outputIndex();
    int[] sums = new int[r.outputSize()];
    for (int i = 0; i < input.length; i++) {
      sums[index[i]] += input[i];
    }
    final int count = r.elementsPerOutput();
    int[] out = new int[sums.length];
    if (inputZeroPoint == outputZeroPoint && inputScale == outputScale) {
      for (int o = 0; o < sums.length; o++) {
        out[o] = sums[o] / count; // reference_ops::Mean: integer division, truncating, narrowed by a cast
      }
      return out;
    }
    final float scale = inputScale / outputScale;
    final float bias = -inputZeroPoint * scale;
    for (int o = 0; o < sums.length; o++) {
      float floatMean = (float) sums[o] / (float) count;
      float result = Math.min(FixedPoint.roundHalfAwayFromZero(floatMean * scale + bias) + (float) outputZeroPoint,
          (float) qmax);
      result = Math.max(result, (float) qmin);
      out[o] = (int) result;
    }
    return out;
  }

  /** reduce.cc PrepareMeanOrSum: the multiplier {@code sIn / sOut} (double division of the float scales). */
  public static FixedPoint.QuantizedMultiplier prepareMultiplier(float inputScale, float outputScale) {
    return FixedPoint.quantizeMultiplier((double) inputScale / (double) outputScale);
  }

  /**
   * reference_integer_ops::Mean: {@code acc = sum(q - zIn)}, rescaled by {@code sIn / sOut}, divided by the
   * element count rounding half away from zero, plus {@code zOut}, clamped. Integer only.
   */
  private static int[] meanSpatial(Reduction r, int[] input, int inputZeroPoint, int outputZeroPoint,
      FixedPoint.QuantizedMultiplier multiplier, int qmin, int qmax) {
    final int[] shape = r.inputShape();
    final int batches = shape[0];
    final int height = shape[1];
    final int width = shape[2];
    final int depth = shape[3];
    final int numElementsInAxis = width * height;
    int[] out = new int[batches * depth];
    for (int b = 0; b < batches; b++) {
      for (int d = 0; d < depth; d++) {
        int acc = 0;
        for (int h = 0; h < height; h++) {
          for (int w = 0; w < width; w++) {
            acc += input[((b * height + h) * width + w) * depth + d] - inputZeroPoint;
          }
        }
        acc = FixedPoint.multiplyByQuantizedMultiplier(acc, multiplier.quantizedMultiplier(), multiplier.shift());
        acc = AveragePool.roundedDivide(acc, numElementsInAxis);
        acc += outputZeroPoint;
        out[b * depth + d] = KernelUtil.clamp(acc, qmin, qmax);
      }
    }
    return out;
  }

  public static void evalFloat(Reduction r, float[] input, float[] output) {
    int[] index = r.outputIndex();
    float[] sums = new float[r.outputSize()];
    for (int i = 0; i < input.length; i++) {
      sums[index[i]] += input[i];
    }
    final float count = r.elementsPerOutput();
    for (int o = 0; o < sums.length; o++) {
      output[o] = sums[o] / count;
    }
  }
}
