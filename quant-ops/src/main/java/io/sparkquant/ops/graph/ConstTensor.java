package io.sparkquant.ops.graph;

import java.util.Arrays;

/** A float constant (weights or bias) in row-major order with its shape. */
public record ConstTensor(int[] shape, float[] data) implements java.io.Serializable {

  public ConstTensor {
    shape = shape.clone();
    long n = 1;
    for (int d : shape) {
      if (d <= 0) {
        throw new IllegalArgumentException("constant dimensions must be positive, got " + Arrays.toString(shape));
      }
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException("constant of shape " + Arrays.toString(shape) + " needs " + n
          + " values, got " + data.length);
    }
  }

  public static ConstTensor vector(float[] data) {
    return new ConstTensor(new int[] {data.length}, data);
  }

  public int dim(int i) {
    return shape[i];
  }

  @Override
  public int[] shape() {
    return shape.clone();
  }

  /** max |x| over the slice with index {@code c} along {@code axis} (the per-channel weight range). */
  public float absMaxAlong(int axis, int c) {
    int outer = 1;
    for (int i = 0; i < axis; i++) {
      outer *= shape[i];
    }
    int inner = 1;
    for (int i = axis + 1; i < shape.length; i++) {
      inner *= shape[i];
    }
    int n = shape[axis];
    float m = 0f;
    for (int o = 0; o < outer; o++) {
      int base = (o * n + c) * inner;
      for (int k = 0; k < inner; k++) {
        m = Math.max(m, Math.abs(data[base + k]));
      }
    }
    return m;
  }

  public float absMax() {
    float m = 0f;
    for (float v : data) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }
}
