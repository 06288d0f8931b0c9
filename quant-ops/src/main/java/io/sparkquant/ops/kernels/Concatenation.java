package io.sparkquant.ops.kernels;

import java.util.Arrays;

/**
 * CONCATENATION (concatenation.cc, reference_ops::Concatenation): a copy along one axis. TFLite 2.6.2's int8 kernel
 * does not rescale: its Prepare requires every input to have the output's scale and zero point (the converter
 * requantizes inputs that differ with a QUANTIZE before it); int16 inputs are copied as they are.
 */
public final class Concatenation {

  private Concatenation() {}

  /**
   * The output shape; {@code axis} may be negative (counted from the end).
   *
   * @throws IllegalArgumentException if ranks differ, the axis is out of range, or a dimension besides it differs
   */
  public static int[] outputShape(int[][] inShapes, int axis) {
    int[] first = inShapes[0];
    int a = axis < 0 ? axis + first.length : axis;
    if (a < 0 || a >= first.length) {
      throw new IllegalArgumentException("axis " + axis + " is outside rank " + first.length);
    }
    int[] out = first.clone();
    for (int i = 1; i < inShapes.length; i++) {
      int[] s = inShapes[i];
      if (s.length != first.length) {
        throw new IllegalArgumentException("input " + i + " has shape " + Arrays.toString(s) + ", input 0 "
            + Arrays.toString(first) + ": ranks differ");
      }
      for (int d = 0; d < s.length; d++) {
        if (d == a) {
          out[d] += s[d];
        } else if (s[d] != first[d]) {
          throw new IllegalArgumentException("input " + i + " has shape " + Arrays.toString(s) + ", input 0 "
              + Arrays.toString(first) + ": dimension " + d + " differs");
        }
      }
    }
    return out;
  }

  /** Copies the inputs (primitive arrays of one type) into {@code output} along the axis. */
  public static void eval(int[][] inShapes, Object[] inputs, int axis, Object output) {
    int rank = inShapes[0].length;
    int a = axis < 0 ? axis + rank : axis;
    int outer = 1;
    for (int d = 0; d < a; d++) {
      outer *= inShapes[0][d];
    }
    int[] chunk = new int[inputs.length];
    int outChunk = 0;
    for (int i = 0; i < inputs.length; i++) {
      int n = 1;
      for (int d = a; d < rank; d++) {
        n *= inShapes[i][d];
      }
      chunk[i] = n;
      outChunk += n;
    }
    for (int k = 0; k < outer; k++) {
      int dst = k * outChunk;
      for (int i = 0; i < inputs.length; i++) {
        System.arraycopy(inputs[i], k * chunk[i], output, dst, chunk[i]);
        dst += chunk[i];
      }
    }
  }
}
