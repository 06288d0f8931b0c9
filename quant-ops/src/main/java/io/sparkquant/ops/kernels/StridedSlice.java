package io.sparkquant.ops.kernels;

/**
 * STRIDED_SLICE (reference/strided_slice.h, strided_slice_logic.h, kernels/strided_slice.cc) without
 * ellipsis and new-axis masks, which TFLite 2.6.2 refuses too. Per axis: {@link #startForAxis} and
 * {@link #stopForAxis} resolve masks, negative indices and clamping; a shrunk axis keeps one element and is
 * dropped from the output shape.
 */
public final class StridedSlice {

  private StridedSlice() {}

  /** The resolved slice: per input axis the first index, the stride and the element count. */
  public record Plan(int[] inputShape, int[] start, int[] strides, int[] counts, int[] outputShape) {}

  /** Resolves begin/end/strides and the masks against an input shape; {@code strides} has no zero. */
  public static Plan plan(int[] inputShape, int[] begin, int[] end, int[] strides, int beginMask, int endMask,
      int shrinkAxisMask) {
    int rank = inputShape.length;
    int[] start = new int[rank];
    int[] counts = new int[rank];
    int kept = 0;
    for (int axis = 0; axis < rank; axis++) {
      boolean shrink = (shrinkAxisMask & (1 << axis)) != 0;
      start[axis] = startForAxis(begin[axis], strides[axis], (beginMask & (1 << axis)) != 0, inputShape[axis]);
      if (shrink && (start[axis] < 0 || start[axis] >= inputShape[axis])) {
        throw new IllegalArgumentException("shrunk axis " + axis + " begins at " + begin[axis]
            + ", outside an axis of size " + inputShape[axis]);
      }
      int stop = shrink ? start[axis] + 1
          : stopForAxis(end[axis], strides[axis], (endMask & (1 << axis)) != 0, inputShape[axis]);
      // ceil((stop - start) / stride) for either sign of stride, at least 0 (strided_slice.cc ResizeOutputTensor)
      int span = stop - start[axis];
      int stride = strides[axis];
      int count = span / stride + (span % stride != 0 && (span > 0) == (stride > 0) ? 1 : 0);
      counts[axis] = Math.max(count, 0);
      kept += shrink ? 0 : 1;
    }
    int[] outputShape = new int[kept];
    for (int axis = 0, k = 0; axis < rank; axis++) {
      if ((shrinkAxisMask & (1 << axis)) == 0) {
        outputShape[k++] = counts[axis];
      }
    }
    return new Plan(inputShape.clone(), start, strides.clone(), counts, outputShape);
  }

  /** StartForAxis: begin_mask takes the first element in iteration order; negative counts from the end. */
  static int startForAxis(int begin, int stride, boolean masked, int axisSize) {
    int start = begin;
    if (masked) {
      start = stride > 0 ? Integer.MIN_VALUE : Integer.MAX_VALUE;
    }
    if (start < 0) {
      start += axisSize;
    }
    return KernelUtil.clamp(start, stride > 0 ? 0 : -1, stride > 0 ? axisSize : axisSize - 1);
  }

  /** StopForAxis: one past the last element; backward iteration may stop at -1. */
  static int stopForAxis(int end, int stride, boolean masked, int axisSize) {
    int stop = end;
    if (masked) {
      stop = stride > 0 ? Integer.MAX_VALUE : Integer.MIN_VALUE;
    }
    if (stop < 0) {
      stop += axisSize;
    }
    return KernelUtil.clamp(stop, stride > 0 ? 0 : -1, stride > 0 ? axisSize : axisSize - 1);
  }

  /** For each output element in row-major order, the flat index of the input element it copies. */
  static int[] gatherIndex(Plan p) {
    int rank = p.inputShape().length;
    int n = 1;
    for (int c : p.counts()) {
      n *= c;
    }
    int[] inStrides = new int[rank];
    for (int axis = rank - 1, s = 1; axis >= 0; axis--) {
      inStrides[axis] = s;
      s *= p.inputShape()[axis];
    }
    int[] index = new int[n];
    int[] pos = new int[rank];
    for (int k = 0; k < n; k++) {
      int flat = 0;
      for (int axis = 0; axis < rank; axis++) {
        flat += (p.start()[axis] + pos[axis] * p.strides()[axis]) * inStrides[axis];
      }
      index[k] = flat;
      for (int axis = rank - 1; axis >= 0; axis--) {
        if (++pos[axis] < p.counts()[axis]) {
          break;
        }
        pos[axis] = 0;
      }
    }
    return index;
  }

  public static void eval(Plan p, byte[] input, byte[] output) {
    int[] index = gatherIndex(p);
    for (int k = 0; k < index.length; k++) {
      output[k] = input[index[k]];
    }
  }

  public static void eval(Plan p, short[] input, short[] output) {
    int[] index = gatherIndex(p);
    for (int k = 0; k < index.length; k++) {
      output[k] = input[index[k]];
    }
  }

  public static void eval(Plan p, float[] input, float[] output) {
    int[] index = gatherIndex(p);
    for (int k = 0; k < index.length; k++) {
      output[k] = input[index[k]];
    }
  }

  public static void eval(Plan p, int[] input, int[] output) {
    int[] index = gatherIndex(p);
    for (int k = 0; k < index.length; k++) {
      output[k] = input[index[k]];
    }
  }
}
