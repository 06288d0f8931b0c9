package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.requireZeroPoint0;
import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.Logistic;
import io.sparkquant.ops.kernels.Tanh;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;

/**
 * TANH (activations.cc TanhPrepare/TanhEval): int8, int16 with a non-power-of-two input scale, float32. The quantized
 * output parameters are fixed by the quantization spec: int8 scale 1/128 and zero point 0 (the range [-1, 1)), int16
 * scale 1/32768 and zero point 0 (TanhPrepare's 2^-15).
 */
final class TanhOp {

  private TanhOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(1, 1);
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    if (input.type() == TensorType.INT8 && output.type() == TensorType.INT8) {
      LogisticOp.requireOutputParams(output, 128, 0);
      byte[] table = Tanh.prepareInt8(scale(input), zeroPoint(input), scale(output), zeroPoint(output));
      return PreparedOp.elementwise(c.op, in -> {
        byte[] out = new byte[((byte[]) in).length];
        Logistic.evalLookupTable(table, (byte[]) in, out);
        return out;
      });
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32) {
      return PreparedOp.elementwise(c.op, in -> {
        float[] out = new float[((float[]) in).length];
        Tanh.evalFloat((float[]) in, out);
        return out;
      });
    }
    if (input.type() == TensorType.INT16 && output.type() == TensorType.INT16) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
      LogisticOp.requireOutputParams(output, 32768, 0);
      Logistic.Int16Params p = Tanh.prepareInt16(scale(input), scale(output));
      return PreparedOp.elementwise(c.op, in -> {
        short[] out = new short[((short[]) in).length];
        Tanh.evalInt16(p, (short[]) in, out);
        return out;
      });
    }
    throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16, FLOAT32");
  }
}
