package io.sparkquant.data;

import java.util.List;
import org.apache.spark.sql.catalyst.util.ArrayData;

/** The row-level rules of the format, shared by the writer, the loader and the batch reader. */
final class RowChecks {

  /** What a bad value should have been and what it was. */
  record Problem(String expected, String actual) {}

  private RowChecks() {}

  /** Null when {@code values} is a valid feature vector for {@code info}. */
  static Problem featuresProblem(List<? extends Number> values, DatasetInfo info) {
    int expected = info.featureLength();
    if (values == null) {
      return new Problem(expectedLength(info), "null");
    }
    if (values.size() != expected) {
      return lengthProblem(values.size(), info);
    }
    for (int i = 0; i < expected; i++) {
      Number v = values.get(i);
      if (v == null) {
        return new Problem("finite values", "null at index " + i);
      }
      if (!Float.isFinite(v.floatValue())) {
        return new Problem("finite values", v.floatValue() + " at index " + i);
      }
    }
    return null;
  }

  /** Null when {@code values} is a valid feature vector for {@code info}. */
  static Problem featuresProblem(float[] values, DatasetInfo info) {
    if (values.length != info.featureLength()) {
      return lengthProblem(values.length, info);
    }
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        return new Problem("finite values", values[i] + " at index " + i);
      }
    }
    return null;
  }

  /**
   * Copies {@code values} (a row's features in Spark's internal form) into {@code out} and returns null when they
   * are a valid feature vector for {@code info}; otherwise returns the problem.
   */
  static Problem copyFeatures(ArrayData values, DatasetInfo info, float[] out) {
    if (values == null) {
      return new Problem(expectedLength(info), "null");
    }
    if (values.numElements() != info.featureLength()) {
      return lengthProblem(values.numElements(), info);
    }
    for (int i = 0; i < out.length; i++) {
      if (values.isNullAt(i)) {
        return new Problem("finite values", "null at index " + i);
      }
      float v = values.getFloat(i);
      if (!Float.isFinite(v)) {
        return new Problem("finite values", v + " at index " + i);
      }
      out[i] = v;
    }
    return null;
  }

  /** A row of {@code length} values where the shape declares another length; describes the row by length only. */
  static Problem lengthProblem(int length, DatasetInfo info) {
    return new Problem(expectedLength(info), length + " values");
  }

  /** Null when {@code label} is a class index of {@code info}. */
  static Problem labelProblem(Number label, DatasetInfo info) {
    if (label == null) {
      return new Problem(labelRange(info), "null");
    }
    long v = label.longValue();
    if (v < 0 || v >= info.numClasses()) {
      return new Problem(labelRange(info), Long.toString(v));
    }
    return null;
  }

  static String labelRange(DatasetInfo info) {
    return "a class index in [0, " + info.numClasses() + ")";
  }

  static String expectedLength(DatasetInfo info) {
    return info.featureLength() + " values (shape " + info.shapeString() + ")";
  }

  /** "row id 17 (row 3 of the file)" style location text. */
  static String rowText(Long id, String position) {
    return id == null ? position : "row id " + id + " (" + position + ")";
  }
}
