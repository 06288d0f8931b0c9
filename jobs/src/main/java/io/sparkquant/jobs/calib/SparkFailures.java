package io.sparkquant.jobs.calib;

import java.util.function.Supplier;
import org.apache.spark.SparkException;

/** Turns a Spark job failure caused by bad input back into the input error it carries. */
final class SparkFailures {

  private SparkFailures() {}

  static <T> T unwrap(Supplier<T> body) {
    try {
      return body.get();
    } catch (Exception e) {
      // Spark's Scala code throws the checked SparkException without declaring it.
      IllegalArgumentException input = inputError(e);
      if (input != null && input != e) {
        throw new IllegalArgumentException(input.getMessage(), e);
      }
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("calibration failed: " + e.getMessage(), e);
    }
  }

  /** The first input error in the cause chain of a Spark failure, else null. */
  private static IllegalArgumentException inputError(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof CalibrationInputException
          || c.getClass().getName().equals("io.sparkquant.data.InvalidDatasetException")) {
        return c instanceof IllegalArgumentException iae ? iae : new IllegalArgumentException(c.getMessage(), c);
      }
      if (c instanceof SparkException && c.getCause() == null) {
        return null;
      }
    }
    return null;
  }
}
