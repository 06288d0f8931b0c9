/**
 * Distributed calibration on Spark: {@link io.sparkquant.jobs.calib.Calibrator} (Spark ML style,
 * {@code fit(Dataset<Row>) -> CalibrationTable}) and its executor-side pieces. The CLI face is
 * {@code sparkquant calibrate} ({@link io.sparkquant.jobs.cli.CalibrateCommand}).
 *
 * <p>Benchmark (calibration vs inference rows/s, local[1] vs local[2], live heap for N vs 10N rows):
 * {@code ./sparkquant bench-calibrate} (see the README).
 */
package io.sparkquant.jobs.calib;
