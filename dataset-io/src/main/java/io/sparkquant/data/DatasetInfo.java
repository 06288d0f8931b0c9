package io.sparkquant.data;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What every row of a tensor dataset holds: the feature tensor shape (HWC for images, e.g. {@code [28, 28, 1]};
 * any rank of at least 1) and the class names, whose indices are the labels.
 */
public record DatasetInfo(int[] shape, List<String> classNames) implements java.io.Serializable {

  /**
   * The class names converters record for unlabelled data given without class names: the format needs at least
   * one, and a model brings its own classes to {@code predict}.
   */
  public static final List<String> UNKNOWN_CLASSES = List.of("unknown");

  /** Checks shape dims are positive and at least one class name is given; copies both. */
  public DatasetInfo {
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(classNames, "classNames");
    if (shape.length == 0) {
      throw new IllegalArgumentException("shape must have at least one dimension, got []");
    }
    long length = 1;
    for (int d : shape) {
      if (d <= 0) {
        throw new IllegalArgumentException("shape dimensions must be positive, got " + Arrays.toString(shape));
      }
      length *= d;
    }
    if (length > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^31-1 elements");
    }
    if (classNames.isEmpty()) {
      throw new IllegalArgumentException("at least one class name is required");
    }
    shape = shape.clone();
    classNames = List.copyOf(classNames);
  }

  /** A copy of the shape. */
  @Override
  public int[] shape() {
    return shape.clone();
  }

  /** Number of feature values per row: the product of the shape. */
  public int featureLength() {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  public int numClasses() {
    return classNames.size();
  }

  /** The shape as written in file metadata, e.g. {@code "28,28,1"}. */
  public String shapeString() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(shape[i]);
    }
    return sb.toString();
  }

  /** Parses {@code "28,28,1"}. */
  public static int[] parseShape(String text) {
    String[] parts = text.trim().split("\\s*,\\s*");
    int[] shape = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        shape[i] = Integer.parseInt(parts[i]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "shape must be comma-separated positive integers like 28,28,1, got '" + text + "'", e);
      }
    }
    return shape;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DatasetInfo other
        && Arrays.equals(shape, other.shape)
        && classNames.equals(other.classNames);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + classNames.hashCode();
  }

  @Override
  public String toString() {
    return "DatasetInfo[shape=" + shapeString() + ", classNames=" + classNames + "]";
  }
}
