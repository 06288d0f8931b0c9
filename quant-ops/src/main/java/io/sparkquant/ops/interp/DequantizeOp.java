package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.Dequantize;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.function.UnaryOperator;

/** DEQUANTIZE (dequantize.cc): int8, int16, float16 to float32; a constant input is folded at prepare time. */
final class DequantizeOp {

  private DequantizeOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(1, 1);
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    if (output.type() != TensorType.FLOAT32) {
      throw typeError("(input, output) = (" + types(input, output) + "); output must be FLOAT32");
    }
    final TensorType inType = input.type();
    final float s = inType == TensorType.FLOAT16 ? 0f : scale(input);
    final int zp = inType == TensorType.FLOAT16 ? 0 : zeroPoint(input);
    if (inType != TensorType.INT8 && inType != TensorType.INT16 && inType != TensorType.FLOAT16) {
      throw typeError("(input, output) = (" + types(input, output) + "); input must be INT8, INT16 or FLOAT16");
    }
    UnaryOperator<Object> dequantize = in -> {
      float[] out = new float[java.lang.reflect.Array.getLength(in)];
      switch (inType) {
        case INT8 -> Dequantize.dequantizeInt8((byte[]) in, s, zp, out);
        case INT16 -> Dequantize.dequantizeInt16((short[]) in, s, zp, out);
        default -> Dequantize.dequantizeFloat16((short[]) in, out);
      }
      return out;
    };
    Object constant = c.constantOrNull(0);
    if (constant != null) { // float16 (or quantized) weights: dequantize once
      return new PreparedOp.Folded(c.op, dequantize.apply(constant));
    }
    return PreparedOp.elementwise(c.op, dequantize);
  }
}
