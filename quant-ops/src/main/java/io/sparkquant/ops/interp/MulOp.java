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

import io.sparkquant.ops.kernels.KernelUtil;
import io.sparkquant.ops.kernels.Mul;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TfliteTensor;

/** MUL (mul.cc): int8, int16 (zero points 0), float32, on {@link Mul}. */
final class MulOp {

  private MulOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(2, 2);
    OperatorOptions.MulParams o = c.options(OperatorOptions.MulParams.class);
    TfliteTensor a = c.input(0);
    TfliteTensor b = c.input(1);
    TfliteTensor output = c.output();
    if (a.type() != b.type() || a.type() != output.type()) {
      throw typeError("(input1, input2, output) = (" + types(a, b, output) + ")");
    }
    return switch (a.type()) {
      case INT8 -> {
        Mul.QuantizedParams p = Mul.prepare(scale(a), zeroPoint(a), scale(b), zeroPoint(b), scale(output),
            zeroPoint(output), o.fusedActivation(), INT8_MIN, INT8_MAX);
        yield BroadcastOp.of(c.op, a.type(), 4, (s1, x1, s2, x2, so, out) ->
            Mul.evalInt8(p, s1, (byte[]) x1, s2, (byte[]) x2, so, (byte[]) out));
      }
      case INT16 -> {
        // mul.cc: the int32 product of two int16 values only fits with zero offsets
        requireZeroPoint0(a);
        requireZeroPoint0(b);
        requireZeroPoint0(output);
        Mul.QuantizedParams p = Mul.prepare(scale(a), 0, scale(b), 0, scale(output), 0, o.fusedActivation(),
            INT16_MIN, INT16_MAX);
        yield BroadcastOp.of(c.op, a.type(), 4, (s1, x1, s2, x2, so, out) ->
            Mul.evalInt16(p, s1, (short[]) x1, s2, (short[]) x2, so, (short[]) out));
      }
      case FLOAT32 -> {
        KernelUtil.FloatRange range = KernelUtil.activationRangeFloat(o.fusedActivation());
        yield BroadcastOp.of(c.op, a.type(), 4, (s1, x1, s2, x2, so, out) ->
            Mul.evalFloat(range, s1, (float[]) x1, s2, (float[]) x2, so, (float[]) out));
      }
      default -> throw typeError("(input1, input2, output) = (" + types(a, b, output) + ")");
    };
  }
}
