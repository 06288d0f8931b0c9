package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.HardSwish;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.TfliteTensor;

/** HARD_SWISH (activations.cc HardSwishPrepare/HardSwishEval): int8, float32, on {@link HardSwish}. */
final class HardSwishOp {

  private HardSwishOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(1, 1);
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    if (input.type() != output.type()) {
      throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, FLOAT32");
    }
    switch (input.type()) {
      case INT8 -> {
        HardSwish.QuantizedParams p;
        try {
          p = HardSwish.prepare(scale(input), zeroPoint(input), scale(output), zeroPoint(output));
        } catch (IllegalArgumentException e) {
          throw new InvalidModelException(e.getMessage(), e);
        }
        return PreparedOp.elementwise(c.op, in -> {
          byte[] out = new byte[((byte[]) in).length];
          HardSwish.evalInt8(p, (byte[]) in, out);
          return out;
        });
      }
      case FLOAT32 -> {
        return PreparedOp.elementwise(c.op, in -> {
          float[] out = new float[((float[]) in).length];
          HardSwish.evalFloat((float[]) in, out);
          return out;
        });
      }
      default -> throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, FLOAT32");
    }
  }
}
