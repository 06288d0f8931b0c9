package io.sparkquant.ops.kernels;

import java.util.Arrays;

/** RESHAPE (kernels/reshape.cc): the data are copied unchanged; only the shape is resolved. */
public final class Reshape {

  private Reshape() {}

  /**
   * Resolves {@code newShape} (at most one -1) against the input's element count. When the model's
   * shape has no -1 and its fixed leading dimension no longer matches because the interpreter runs a
   * larger batch, the leading dimension is inferred instead.
   */
  public static int[] resolveShape(int[] newShape, int elementCount) {
    int[] shape = newShape.clone();
    int unknown = -1;
    long known = 1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] == -1) {
        if (unknown >= 0) {
          throw new IllegalArgumentException("RESHAPE new shape " + Arrays.toString(newShape)
              + " has more than one -1");
        }
        unknown = i;
      } else {
        known *= shape[i];
      }
    }
    if (unknown < 0 && known != elementCount && shape.length > 0 && shape[0] > 0) {
      long rest = known / shape[0];
      if (rest > 0 && elementCount % rest == 0) {
        shape[0] = (int) (elementCount / rest);
        return shape;
      }
    }
    if (unknown >= 0) {
      if (known == 0 || elementCount % known != 0) {
        throw new IllegalArgumentException("RESHAPE cannot map " + elementCount + " elements to "
            + Arrays.toString(newShape));
      }
      shape[unknown] = (int) (elementCount / known);
    } else if (known != elementCount) {
      throw new IllegalArgumentException("RESHAPE new shape " + Arrays.toString(newShape) + " holds " + known
          + " elements, input has " + elementCount);
    }
    return shape;
  }
}
