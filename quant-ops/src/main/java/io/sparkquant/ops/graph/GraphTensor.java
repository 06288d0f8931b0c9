package io.sparkquant.ops.graph;

import java.util.Arrays;

/**
 * A value tensor of the graph: NHWC shape with batch 1 ({@code [1, H, W, C]} or {@code [1, F]}), the name of the
 * node producing it (null for the graph input) and where DL4J exposes its float value.
 */
public record GraphTensor(String name, int[] shape, String producer, Dl4jSource source)
    implements java.io.Serializable {

  public GraphTensor {
    shape = shape.clone();
  }

  @Override
  public int[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public int dim(int i) {
    return shape[i];
  }

  /** Elements per batch item (the product of all dimensions but the first). */
  public int itemSize() {
    int n = 1;
    for (int i = 1; i < shape.length; i++) {
      n *= shape[i];
    }
    return n;
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape);
  }
}
