/**
 * Calibration statistics and range selection, without Spark.
 *
 * <p>Config -> statistics -> parameters (STYLE.md section 2): a {@link io.sparkquant.ops.calib.RangeMethod} is the
 * config; {@link io.sparkquant.ops.calib.MinMaxStats} (pass 1) and {@link io.sparkquant.ops.calib.HistogramStats}
 * (pass 2, over a {@link io.sparkquant.ops.calib.BinLayout} fixed from pass 1) are mergeable statistics gathered
 * per tensor in a {@link io.sparkquant.ops.calib.ModelStats}; {@link io.sparkquant.ops.calib.CalibrationTable}
 * is the immutable result, whose scale and zero point come from
 * {@link io.sparkquant.ops.numerics.QuantParams#int8Activation}.
 *
 * <p>Every statistic obeys the laws of {@link io.sparkquant.ops.calib.MergeableStats} exactly (integer counts,
 * exact float min/max, fixed edges), so merged results are bit-identical for any sharding; every JSON form carries a
 * {@code format} and a {@code formatVersion}.
 */
package io.sparkquant.ops.calib;
