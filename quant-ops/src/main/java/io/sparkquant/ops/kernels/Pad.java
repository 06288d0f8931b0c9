package io.sparkquant.ops.kernels;

import java.lang.reflect.Array;
import java.util.Arrays;

/**
 * PAD (pad.cc, reference_ops::PadImpl) for up to 4 dimensions: every element outside the input is the pad value.
 * TFLite pads int8/int16 tensors with the output's zero point (so the padded cells read as real 0) and float with 0;
 * values are copied, not requantized, so the exporter gives input and output the same parameters.
 */
public final class Pad {

  /** TFLite 2.6.2's reference PadImpl handles at most 4 dimensions (lower ranks are extended with leading 1s). */
  public static final int MAX_RANK = 4;

  private Pad() {}

  /**
   * The output shape of {@code inShape} with {@code paddings} ({@code [rank][2]} as the row-major {@code [rank, 2]}
   * INT32 tensor: before and after per dimension).
   *
   * @throws IllegalArgumentException for a rank above 4, a paddings tensor of another size, or a negative padding
   */
  public static int[] outputShape(int[] inShape, int[] paddings) {
    if (inShape.length > MAX_RANK) {
      throw new IllegalArgumentException("input rank " + inShape.length + " exceeds " + MAX_RANK);
    }
    if (paddings.length != 2 * inShape.length) {
      throw new IllegalArgumentException("paddings hold " + paddings.length + " values, expected [" + inShape.length
          + ", 2] for input shape " + Arrays.toString(inShape));
    }
    int[] out = new int[inShape.length];
    for (int d = 0; d < inShape.length; d++) {
      if (paddings[2 * d] < 0 || paddings[2 * d + 1] < 0) {
        throw new IllegalArgumentException("paddings " + Arrays.toString(paddings) + " are negative in dimension " + d);
      }
      out[d] = inShape[d] + paddings[2 * d] + paddings[2 * d + 1];
    }
    return out;
  }

  /**
   * Copies {@code input} (any primitive array of shape {@code inShape}) into {@code output} (of the padded shape,
   * already filled with the pad value by the caller, see {@link #fill}).
   */
  public static void eval(int[] inShape, int[] paddings, Object input, Object output) {
    int[] s = new int[MAX_RANK];
    int[] before = new int[MAX_RANK];
    int[] o = new int[MAX_RANK];
    int lead = MAX_RANK - inShape.length;
    for (int d = 0; d < MAX_RANK; d++) {
      s[d] = d < lead ? 1 : inShape[d - lead];
      before[d] = d < lead ? 0 : paddings[2 * (d - lead)];
      o[d] = d < lead ? 1 : s[d] + before[d] + paddings[2 * (d - lead) + 1];
    }
    if (s[3] == 0) {
      return;
    }
    for (int a = 0; a < s[0]; a++) {
      for (int b = 0; b < s[1]; b++) {
        for (int c = 0; c < s[2]; c++) {
          int src = ((a * s[1] + b) * s[2] + c) * s[3];
          int dst = (((a + before[0]) * o[1] + b + before[1]) * o[2] + c + before[2]) * o[3] + before[3];
          System.arraycopy(input, src, output, dst, s[3]);
        }
      }
    }
  }

  /** An array of {@code n} elements of {@code input}'s type, every element the pad value. */
  public static Object fill(Object input, int n, int padValue) {
    Object out = Array.newInstance(input.getClass().getComponentType(), n);
    if (out instanceof byte[] b) {
      Arrays.fill(b, (byte) padValue);
    } else if (out instanceof short[] s) {
      Arrays.fill(s, (short) padValue);
    } else if (out instanceof int[] i) {
      Arrays.fill(i, padValue);
    } else if (out instanceof long[] l) {
      Arrays.fill(l, padValue);
    }
    return out; // float[]: 0f, TFLite's pad value for float PAD
  }
}
