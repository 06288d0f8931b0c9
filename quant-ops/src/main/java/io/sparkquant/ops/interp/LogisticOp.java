package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.requireZeroPoint0;
import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.Logistic;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;

/** LOGISTIC (activations.cc SigmoidPrepare/SigmoidEval): int8, int16 with a non-power-of-two input scale, float32. */
final class LogisticOp {

  private LogisticOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(1, 1);
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    if (input.type() == TensorType.INT8 && output.type() == TensorType.INT8) {
      byte[] table = Logistic.prepareInt8(scale(input), zeroPoint(input), scale(output), zeroPoint(output));
      return PreparedOp.elementwise(c.op, in -> {
        byte[] out = new byte[((byte[]) in).length];
        Logistic.evalLookupTable(table, (byte[]) in, out);
        return out;
      });
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32) {
      return PreparedOp.elementwise(c.op, in -> {
        float[] out = new float[((float[]) in).length];
        Logistic.evalFloat((float[]) in, out);
        return out;
      });
    }
    if (input.type() == TensorType.INT16 && output.type() == TensorType.INT16) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
      Logistic.Int16Params p = Logistic.prepareInt16(scale(input), scale(output), false);
      return PreparedOp.elementwise(c.op, in -> {
        short[] out = new short[((short[]) in).length];
        Logistic.evalInt16(p, (short[]) in, out);
        return out;
      });
    }
    throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16, FLOAT32");
  }
}
