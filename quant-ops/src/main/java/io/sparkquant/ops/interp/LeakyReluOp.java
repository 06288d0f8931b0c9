package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.INT16_MAX;
import static io.sparkquant.ops.interp.OpContext.INT16_MIN;
import static io.sparkquant.ops.interp.OpContext.INT8_MAX;
import static io.sparkquant.ops.interp.OpContext.INT8_MIN;
import static io.sparkquant.ops.interp.OpContext.requireZeroPoint0;
import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.LeakyRelu;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TfliteTensor;

/** LEAKY_RELU (activations.cc LeakyReluPrepare/LeakyReluEval): int8, int16, float32, on {@link LeakyRelu}. */
final class LeakyReluOp {

  private LeakyReluOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(1, 1);
    float alpha = c.options(OperatorOptions.LeakyReluParams.class).alpha();
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    if (input.type() != output.type()) {
      throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16, FLOAT32");
    }
    switch (input.type()) {
      case INT8 -> {
        LeakyRelu.QuantizedParams p = LeakyRelu.prepare(scale(input), zeroPoint(input), scale(output),
            zeroPoint(output), alpha, INT8_MIN, INT8_MAX);
        return PreparedOp.elementwise(c.op, in -> {
          byte[] out = new byte[((byte[]) in).length];
          LeakyRelu.evalInt8(p, (byte[]) in, out);
          return out;
        });
      }
      case INT16 -> {
        requireZeroPoint0(input);
        requireZeroPoint0(output);
        LeakyRelu.QuantizedParams p = LeakyRelu.prepare(scale(input), 0, scale(output), 0, alpha, INT16_MIN,
            INT16_MAX);
        return PreparedOp.elementwise(c.op, in -> {
          short[] out = new short[((short[]) in).length];
          LeakyRelu.evalInt16(p, (short[]) in, out);
          return out;
        });
      }
      case FLOAT32 -> {
        return PreparedOp.elementwise(c.op, in -> {
          float[] out = new float[((float[]) in).length];
          LeakyRelu.evalFloat(alpha, (float[]) in, out);
          return out;
        });
      }
      default -> throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16, FLOAT32");
    }
  }
}
