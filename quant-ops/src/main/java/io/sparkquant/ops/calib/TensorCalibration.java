package io.sparkquant.ops.calib;

import io.sparkquant.ops.numerics.QuantParams;

/**
 * The calibration result of one tensor: its statistics summary, how the range was chosen, the range and the
 * int8 parameters derived from it by {@link QuantParams#int8Activation}.
 *
 * @param tensor IR tensor name
 * @param count finite values observed
 * @param min smallest observed value
 * @param max largest observed value
 * @param histogram histogram summary, or null when the method needed no histogram
 * @param method the range method's name
 * @param range the chosen range (before QuantParams extends it to hold 0)
 * @param scale int8 scale, {@code real = scale * (q - zeroPoint)}
 * @param zeroPoint int8 zero point
 */
public record TensorCalibration(
    String tensor,
    long count,
    float min,
    float max,
    HistogramSummary histogram,
    String method,
    ClipRange range,
    float scale,
    int zeroPoint) {

  public QuantParams params() {
    return new QuantParams(scale, zeroPoint);
  }
}
