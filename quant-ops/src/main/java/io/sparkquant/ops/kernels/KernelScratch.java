package io.sparkquant.ops.kernels;

/**
 * Working memory of the CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels, reused from call to call (grown
 * when a larger shape comes, never shrunk), so the hot path allocates nothing. Not thread-safe: one instance per
 * thread (the interpreter's prepared ops keep one per thread).
 *
 * <p>Rows are separate arrays, each starting at index 0, rather than slices of one array: HotSpot C2 (Java 17)
 * vectorizes {@code acc[j] += w * x[j]} only when every array in the loop is indexed by the same offset, and the
 * kernels' inner loops are written that way (measured: about 8x faster than the same loop with a row offset).
 */
public final class KernelScratch {

  private int[][] intA = new int[0][];
  private int[][] intB = new int[0][];
  private float[][] floatA = new float[0][];
  private float[][] floatB = new float[0][];
  private int[] intC = new int[0];
  private float[] floatC = new float[0];
  private int[] pixels = new int[0];

  /** The first set of int rows: at least {@code rows} rows of at least {@code length} elements. */
  int[][] intRowsA(int rows, int length) {
    intA = grow(intA, rows, length);
    return intA;
  }

  /** A second, independent set of int rows. */
  int[][] intRowsB(int rows, int length) {
    intB = grow(intB, rows, length);
    return intB;
  }

  float[][] floatRowsA(int rows, int length) {
    floatA = grow(floatA, rows, length);
    return floatA;
  }

  float[][] floatRowsB(int rows, int length) {
    floatB = grow(floatB, rows, length);
    return floatB;
  }

  /** A third, single int row of at least {@code length} elements. */
  int[] intRowC(int length) {
    if (intC.length < length) {
      intC = new int[length];
    }
    return intC;
  }

  float[] floatRowC(int length) {
    if (floatC.length < length) {
      floatC = new float[length];
    }
    return floatC;
  }

  /** A row of at least {@code length} output pixel indices. */
  int[] pixelRow(int length) {
    if (pixels.length < length) {
      pixels = new int[length];
    }
    return pixels;
  }

  private static int[][] grow(int[][] a, int rows, int length) {
    if (a.length < rows) {
      a = java.util.Arrays.copyOf(a, rows);
    }
    for (int r = 0; r < rows; r++) {
      if (a[r] == null || a[r].length < length) {
        a[r] = new int[length];
      }
    }
    return a;
  }

  private static float[][] grow(float[][] a, int rows, int length) {
    if (a.length < rows) {
      a = java.util.Arrays.copyOf(a, rows);
    }
    for (int r = 0; r < rows; r++) {
      if (a[r] == null || a[r].length < length) {
        a[r] = new float[length];
      }
    }
    return a;
  }
}
