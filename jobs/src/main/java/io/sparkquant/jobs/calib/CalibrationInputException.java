package io.sparkquant.jobs.calib;

/** Bad calibration input found on an executor (a row's features); carried to the driver inside Spark's failure. */
public final class CalibrationInputException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  public CalibrationInputException(String message) {
    super(message);
  }
}
