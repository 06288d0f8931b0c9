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

import io.sparkquant.ops.kernels.Relu;
import io.sparkquant.ops.tflite.TfliteTensor;

/** Standalone RELU and RELU6 (activations.cc ReluPrepare/ReluEval/Relu6Eval): int8, int16, float32, on {@link Relu}. */
final class ReluOp {

  private ReluOp() {}

  static PreparedOp prepareRelu(OpContext c) {
    return prepare(c, Float.POSITIVE_INFINITY);
  }

  static PreparedOp prepareRelu6(OpContext c) {
    return prepare(c, 6f);
  }

  private static PreparedOp prepare(OpContext c, float activationMax) {
    c.requireOperands(1, 1);
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    boolean relu6 = activationMax != Float.POSITIVE_INFINITY;
    if (input.type() != output.type()) {
      throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16, FLOAT32");
    }
    switch (input.type()) {
      case INT8 -> {
        Relu.QuantizedParams p = Relu.prepare(scale(input), zeroPoint(input), scale(output), zeroPoint(output), 0f,
            activationMax, INT8_MIN, INT8_MAX);
        return PreparedOp.elementwise(c.op, in -> {
          byte[] out = new byte[((byte[]) in).length];
          Relu.evalInt8(p, (byte[]) in, out);
          return out;
        });
      }
      case INT16 -> {
        requireZeroPoint0(input);
        requireZeroPoint0(output);
        Relu.QuantizedParams p = Relu.prepare(scale(input), 0, scale(output), 0, 0f, activationMax, INT16_MIN,
            INT16_MAX);
        return PreparedOp.elementwise(c.op, in -> {
          short[] out = new short[((short[]) in).length];
          Relu.evalInt16(p, (short[]) in, out);
          return out;
        });
      }
      case FLOAT32 -> {
        return PreparedOp.elementwise(c.op, in -> {
          float[] out = new float[((float[]) in).length];
          Relu.evalFloat(relu6, (float[]) in, out);
          return out;
        });
      }
      default -> throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16, FLOAT32");
    }
  }
}
