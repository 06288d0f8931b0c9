package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.INT16_MAX;
import static io.sparkquant.ops.interp.OpContext.INT16_MIN;
import static io.sparkquant.ops.interp.OpContext.INT8_MAX;
import static io.sparkquant.ops.interp.OpContext.INT8_MIN;
import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.Quantize;
import io.sparkquant.ops.numerics.FixedPoint;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;

/** QUANTIZE (quantize.cc): float32 to int8/int16, int8 to int8, int16 to int8/int16, on {@link Quantize}. */
final class QuantizeOp {

  private QuantizeOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(1, 1);
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    final TensorType outType = output.type();
    final int qmin;
    final int qmax;
    switch (outType) {
      case INT8 -> {
        qmin = INT8_MIN;
        qmax = INT8_MAX;
      }
      case INT16 -> {
        qmin = INT16_MIN;
        qmax = INT16_MAX;
      }
      default -> throw typeError("(input, output) = (" + types(input, output) + "); output must be INT8 or INT16");
    }
    final float outScale = scale(output);
    final int outZp = zeroPoint(output);
    if (input.type() == TensorType.FLOAT32) {
      return PreparedOp.elementwise(c.op, in -> {
        Object out = TensorValue.allocate(outType, ((float[]) in).length);
        Quantize.affineQuantize((float[]) in, outScale, outZp, qmin, qmax, out);
        return out;
      });
    }
    if (input.type() == TensorType.INT8 && outType == TensorType.INT16) {
      // quantize.cc Prepare: an int8 input requantizes only to int8 (or uint8) in TFLite 2.6.2
      throw typeError("(input, output) = (" + types(input, output) + "); an INT8 input requantizes only to INT8");
    }
    if (input.type() == TensorType.INT8 || input.type() == TensorType.INT16) {
      final FixedPoint.QuantizedMultiplier m = Quantize.prepareRequantize(scale(input), outScale);
      final int inZp = zeroPoint(input);
      final boolean int8In = input.type() == TensorType.INT8;
      return PreparedOp.elementwise(c.op, inData -> {
        int n = java.lang.reflect.Array.getLength(inData);
        int[] widened = new int[n];
        for (int i = 0; i < n; i++) {
          widened[i] = int8In ? ((byte[]) inData)[i] : ((short[]) inData)[i];
        }
        Object out = TensorValue.allocate(outType, n);
        Quantize.requantize(widened, inZp, m, outZp, qmin, qmax, out);
        return out;
      });
    }
    throw typeError("(input, output) = (" + types(input, output) + ")");
  }
}
