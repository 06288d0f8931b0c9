package io.sparkquant.jobs.calib;

import io.sparkquant.data.InvalidDatasetException;
import java.util.function.Supplier;

/** Turns a Spark job failure caused by bad input back into the input error it carries. */
final class SparkFailures {

  private SparkFailures() {}

  static <T> T unwrap(Supplier<T> body) {
    try {
      return body.get();
    } catch (Exception e) {
      // Spark's Scala code throws the checked SparkException without declaring it.
      InvalidDatasetException input = InvalidDatasetException.findIn(e).orElse(null);
      if (input != null && input != e) {
        throw new InvalidDatasetException(input, e);
      }
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("calibration failed: " + e.getMessage(), e);
    }
  }
}
