/**
 * Distributed calibration on Spark: {@link io.sparkquant.jobs.calib.Calibrator} (Spark ML style,
 * {@code fit(Dataset<Row>) -> CalibrationTable}) and its executor-side pieces. The CLI face is
 * {@code sparkquant calibrate} ({@link io.sparkquant.jobs.CalibrateCommand}).
 *
 * <p>Benchmark (calibration vs inference rows/s, local[1] vs local[2], heap for N vs 10N rows):
 * {@code OMP_NUM_THREADS=1 SPARKQUANT_HEAP=1g ./sparkquant bench-calibrate --rows 2000}.
 */
package io.sparkquant.jobs.calib;
