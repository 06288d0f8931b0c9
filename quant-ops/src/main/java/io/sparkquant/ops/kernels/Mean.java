package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;
import java.util.Arrays;

/**
 * MEAN (kernels/reduce.cc EvalMean, optimized/integer_ops/mean.h, reference/reduce.h). TFLite 2.6.2
 * computes the int8 mean in float on every path it takes:
 * <ul>
 *   <li>keepDims, 4-D input, axes {1, 2} (a global average pool): optimized MeanImpl, float sum over
 *       H x W divided by the count, then {@code (int8) round(mean * sIn / sOut + bias) + zOut} with
 *       {@code bias = -zIn * sIn / sOut + 0.5} (no clamp: TFLite narrows with a plain cast);</li>
 *   <li>otherwise, same input and output parameters: int32 sum divided by the count, truncating;</li>
 *   <li>otherwise QuantizedMeanOrSum: {@code clamp(round(sum / count * s + bias) + zOut)} in float.</li>
 * </ul>
 * Exporters should prefer AVERAGE_POOL_2D over the whole image, which is integer-only.
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

  public static void evalInt8(Reduction r, byte[] input, float inputScale, int inputZeroPoint, byte[] output,
      float outputScale, int outputZeroPoint) {
    if (r.isSpatial4d()) {
      meanImplInt8(r, input, inputScale, inputZeroPoint, output, outputScale, outputZeroPoint);
      return;
    }
    int[] index = r.outputIndex();
    int[] sums = new int[r.outputSize()];
    for (int i = 0; i < input.length; i++) {
      sums[index[i]] += input[i];
    }
    final int count = r.elementsPerOutput();
    if (inputZeroPoint == outputZeroPoint && inputScale == outputScale) {
      for (int o = 0; o < sums.length; o++) {
        output[o] = (byte) (sums[o] / count); // reference_ops::Mean: integer division, truncating
      }
      return;
    }
    final float scale = inputScale / outputScale;
    final float bias = -inputZeroPoint * scale;
    for (int o = 0; o < sums.length; o++) {
      float floatMean = (float) sums[o] / (float) count;
      float result = Math.min(FixedPoint.roundHalfAwayFromZero(floatMean * scale + bias) + (float) outputZeroPoint,
          (float) Byte.MAX_VALUE);
      result = Math.max(result, (float) Byte.MIN_VALUE);
      output[o] = (byte) (int) result;
    }
  }

  /** optimized_integer_ops::MeanImpl, the scalar (non-NEON) loop. */
  private static void meanImplInt8(Reduction r, byte[] input, float inputScale, int inputZeroPoint, byte[] output,
      float outputScale, int outputZeroPoint) {
    final int[] shape = r.inputShape();
    final int batches = shape[0];
    final int height = shape[1];
    final int width = shape[2];
    final int depth = shape[3];
    final float numElementsInAxis = width * height;
    final boolean ordinaryMean = inputZeroPoint == outputZeroPoint && inputScale == outputScale;
    float scale = 0f;
    float bias = 0f;
    if (!ordinaryMean) {
      scale = inputScale / outputScale;
      bias = (float) ((double) (-inputZeroPoint * scale) + 0.5); // float product, + 0.5 in double, stored as float
    }
    for (int b = 0; b < batches; b++) {
      for (int d = 0; d < depth; d++) {
        float tempValue = 0;
        for (int h = 0; h < height; h++) {
          for (int w = 0; w < width; w++) {
            tempValue += input[((b * height + h) * width + w) * depth + d];
          }
        }
        tempValue = tempValue / numElementsInAxis;
        if (ordinaryMean) {
          output[b * depth + d] = (byte) FixedPoint.roundHalfAwayFromZero(tempValue);
        } else {
          int rounded = (byte) FixedPoint.roundHalfAwayFromZero(tempValue * scale + bias);
          output[b * depth + d] = (byte) (rounded + outputZeroPoint);
        }
      }
    }
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
