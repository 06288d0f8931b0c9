package io.sparkquant.ops.calib;

import io.sparkquant.ops.numerics.QuantParams;
import java.io.Serializable;

/**
 * A chosen real-valued activation range {@code [min, max]}. It is not yet extended to hold 0: that, the scale and
 * the zero point are {@link QuantParams#int8Activation}'s job, the one place the formula lives.
 */
public record ClipRange(float min, float max) implements Serializable {

  public ClipRange {
    if (!Float.isFinite(min) || !Float.isFinite(max) || min > max) {
      throw new IllegalArgumentException("range must be finite with min <= max, got [" + min + ", " + max + "]");
    }
  }

  /** int8 asymmetric activation parameters for this range (QUANT-SPEC.md, "Choosing parameters"). */
  public QuantParams int8Params() {
    return QuantParams.int8Activation(min, max);
  }
}
