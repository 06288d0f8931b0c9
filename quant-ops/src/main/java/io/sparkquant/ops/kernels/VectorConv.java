package io.sparkquant.ops.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The inner product of {@link Conv}'s blocked kernels on the JDK Vector API ({@code jdk.incubator.vector}): four
 * output channels by one vector of pixels kept in registers over the whole patch, where the auto-vectorized loop
 * loads and stores its accumulators at every tap. Loaded only when the JVM runs with
 * {@code --add-modules jdk.incubator.vector} ({@link Conv#VECTOR_API}); the results are the same bits either way
 * (integer sums; float lanes multiply then add, each rounded, as the scalar loop).
 */
final class VectorConv {

  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

  private VectorConv() {}

  /** {@code a_r[j] += sum_k filter[(oc0 + r) * patchSize + k] * patch[k][j]} for r < 4 and j < len. */
  static void accumulate4(int[][] patch, byte[] filter, int patchSize, int oc0, int len, int[] a0, int[] a1,
      int[] a2, int[] a3) {
    final int f0 = oc0 * patchSize;
    final int f1 = f0 + patchSize;
    final int f2 = f1 + patchSize;
    final int f3 = f2 + patchSize;
    final int step = INTS.length();
    int j = 0;
    for (; j + step <= len; j += step) {
      IntVector v0 = IntVector.fromArray(INTS, a0, j);
      IntVector v1 = IntVector.fromArray(INTS, a1, j);
      IntVector v2 = IntVector.fromArray(INTS, a2, j);
      IntVector v3 = IntVector.fromArray(INTS, a3, j);
      for (int k = 0; k < patchSize; k++) {
        IntVector x = IntVector.fromArray(INTS, patch[k], j);
        v0 = x.mul(filter[f0 + k]).add(v0);
        v1 = x.mul(filter[f1 + k]).add(v1);
        v2 = x.mul(filter[f2 + k]).add(v2);
        v3 = x.mul(filter[f3 + k]).add(v3);
      }
      v0.intoArray(a0, j);
      v1.intoArray(a1, j);
      v2.intoArray(a2, j);
      v3.intoArray(a3, j);
    }
    for (; j < len; j++) {
      int s0 = a0[j];
      int s1 = a1[j];
      int s2 = a2[j];
      int s3 = a3[j];
      for (int k = 0; k < patchSize; k++) {
        int x = patch[k][j];
        s0 += filter[f0 + k] * x;
        s1 += filter[f1 + k] * x;
        s2 += filter[f2 + k] * x;
        s3 += filter[f3 + k] * x;
      }
      a0[j] = s0;
      a1[j] = s1;
      a2[j] = s2;
      a3[j] = s3;
    }
  }

  /** The float twin: every lane sums over k in order, {@code a = a + w * x}, as the scalar loop. */
  static void accumulate4(float[][] patch, float[] filter, int patchSize, int oc0, int len, float[] a0, float[] a1,
      float[] a2, float[] a3) {
    final int f0 = oc0 * patchSize;
    final int f1 = f0 + patchSize;
    final int f2 = f1 + patchSize;
    final int f3 = f2 + patchSize;
    final int step = FLOATS.length();
    int j = 0;
    for (; j + step <= len; j += step) {
      FloatVector v0 = FloatVector.fromArray(FLOATS, a0, j);
      FloatVector v1 = FloatVector.fromArray(FLOATS, a1, j);
      FloatVector v2 = FloatVector.fromArray(FLOATS, a2, j);
      FloatVector v3 = FloatVector.fromArray(FLOATS, a3, j);
      for (int k = 0; k < patchSize; k++) {
        FloatVector x = FloatVector.fromArray(FLOATS, patch[k], j);
        v0 = v0.add(x.mul(filter[f0 + k]));
        v1 = v1.add(x.mul(filter[f1 + k]));
        v2 = v2.add(x.mul(filter[f2 + k]));
        v3 = v3.add(x.mul(filter[f3 + k]));
      }
      v0.intoArray(a0, j);
      v1.intoArray(a1, j);
      v2.intoArray(a2, j);
      v3.intoArray(a3, j);
    }
    for (; j < len; j++) {
      float s0 = a0[j];
      float s1 = a1[j];
      float s2 = a2[j];
      float s3 = a3[j];
      for (int k = 0; k < patchSize; k++) {
        float x = patch[k][j];
        s0 += filter[f0 + k] * x;
        s1 += filter[f1 + k] * x;
        s2 += filter[f2 + k] * x;
        s3 += filter[f3 + k] * x;
      }
      a0[j] = s0;
      a1[j] = s1;
      a2[j] = s2;
      a3[j] = s3;
    }
  }
}
