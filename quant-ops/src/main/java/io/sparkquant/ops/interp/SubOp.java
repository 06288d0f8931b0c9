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

import io.sparkquant.ops.kernels.Add;
import io.sparkquant.ops.kernels.KernelUtil;
import io.sparkquant.ops.kernels.Sub;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TfliteTensor;

/** SUB (sub.cc): int8, int16 on the general-scale path, float32, on {@link Sub}. */
final class SubOp {

  private SubOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(2, 2);
    OperatorOptions.SubParams o = c.options(OperatorOptions.SubParams.class);
    TfliteTensor a = c.input(0);
    TfliteTensor b = c.input(1);
    TfliteTensor output = c.output();
    if (a.type() != b.type() || a.type() != output.type()) {
      throw typeError("(input1, input2, output) = (" + types(a, b, output) + ")");
    }
    return switch (a.type()) {
      case INT8 -> {
        Add.QuantizedParams p = Add.prepare(scale(a), zeroPoint(a), scale(b), zeroPoint(b), scale(output),
            zeroPoint(output), o.fusedActivation(), 20, INT8_MIN, INT8_MAX);
        yield BroadcastOp.of(c.op, a.type(), 4, (s1, x1, s2, x2, so, out) ->
            Sub.evalInt8(p, s1, (byte[]) x1, s2, (byte[]) x2, so, (byte[]) out));
      }
      case INT16 -> {
        requireZeroPoint0(a);
        requireZeroPoint0(b);
        requireZeroPoint0(output);
        // sub.cc takes its LSTM power-of-two path when pot_scale_int16 (the schema default) and every scale is a
        // power of two; otherwise the general path, ADD's with leftShift 15
        if (o.potScaleInt16() && AddOp.isPowerOfTwo(scale(a)) && AddOp.isPowerOfTwo(scale(b))
            && AddOp.isPowerOfTwo(scale(output))) {
          throw InvalidModelException.unsupported("int16 SUB with pot_scale_int16 and power-of-two scales takes "
              + "TFLite's saturating-shift path, which this interpreter does not implement; write "
              + "pot_scale_int16 = false or use non-power-of-two scales");
        }
        Add.QuantizedParams p = Add.prepare(scale(a), 0, scale(b), 0, scale(output), 0, o.fusedActivation(), 15,
            INT16_MIN, INT16_MAX);
        yield BroadcastOp.of(c.op, a.type(), 4, (s1, x1, s2, x2, so, out) ->
            Sub.evalInt16(p, s1, (short[]) x1, s2, (short[]) x2, so, (short[]) out));
      }
      case FLOAT32 -> {
        KernelUtil.FloatRange range = KernelUtil.activationRangeFloat(o.fusedActivation());
        yield BroadcastOp.of(c.op, a.type(), 4, (s1, x1, s2, x2, so, out) ->
            Sub.evalFloat(range, s1, (float[]) x1, s2, (float[]) x2, so, (float[]) out));
      }
      default -> throw typeError("(input1, input2, output) = (" + types(a, b, output) + ")");
    };
  }
}
