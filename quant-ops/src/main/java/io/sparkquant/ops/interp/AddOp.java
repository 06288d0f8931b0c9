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
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;

/** ADD (add.cc): int8, int16 with non-power-of-two scales, float32, on {@link Add}. */
final class AddOp {

  private AddOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(2, 2);
    OperatorOptions.AddParams o = c.options(OperatorOptions.AddParams.class);
    TfliteTensor a = c.input(0);
    TfliteTensor b = c.input(1);
    TfliteTensor output = c.output();
    if (a.type() != b.type() || a.type() != output.type()) {
      throw typeError("(input1, input2, output) = (" + types(a, b, output) + ")");
    }
    final TensorType type = a.type();
    final Add.QuantizedParams p;
    final KernelUtil.FloatRange floatRange;
    switch (type) {
      case INT8 -> {
        p = Add.prepare(scale(a), zeroPoint(a), scale(b), zeroPoint(b), scale(output), zeroPoint(output),
            o.fusedActivation(), 20, INT8_MIN, INT8_MAX);
        floatRange = null;
      }
      case INT16 -> {
        requireZeroPoint0(a);
        requireZeroPoint0(b);
        requireZeroPoint0(output);
        if (isPowerOfTwo(scale(a)) && isPowerOfTwo(scale(b)) && isPowerOfTwo(scale(output))) {
          throw InvalidModelException.unsupported("int16 ADD with power-of-two scales takes TFLite's saturating-shift "
              + "path, which this interpreter does not implement; use non-power-of-two scales");
        }
        p = Add.prepare(scale(a), 0, scale(b), 0, scale(output), 0, o.fusedActivation(), 15, INT16_MIN, INT16_MAX);
        floatRange = null;
      }
      case FLOAT32 -> {
        p = null;
        floatRange = KernelUtil.activationRangeFloat(o.fusedActivation());
      }
      default -> throw typeError("(input1, input2, output) = (" + types(a, b, output) + ")");
    }
    return new PreparedOp(c.op) {
      @Override
      int[] outputShape(int[][] shapes) {
        try {
          int[] out = Add.broadcastShape(shapes[inputs[0]], shapes[inputs[1]]);
          elements(out);
          return out;
        } catch (InvalidModelException e) {
          throw e;
        } catch (IllegalArgumentException e) {
          throw new InvalidModelException(e.getMessage(), e);
        }
      }

      @Override
      Object compute(Object[] values, int[][] shapes, int[] outShape) {
        int[] s1 = shapes[inputs[0]];
        int[] s2 = shapes[inputs[1]];
        Object outData = TensorValue.allocate(type, elements(outShape));
        switch (type) {
          case INT8 -> Add.evalInt8(p, s1, (byte[]) values[inputs[0]], s2, (byte[]) values[inputs[1]], outShape,
              (byte[]) outData);
          case INT16 -> Add.evalInt16(p, s1, (short[]) values[inputs[0]], s2, (short[]) values[inputs[1]], outShape,
              (short[]) outData);
          default -> Add.evalFloat(floatRange, s1, (float[]) values[inputs[0]], s2, (float[]) values[inputs[1]],
              outShape, (float[]) outData);
        }
        return outData;
      }
    };
  }

  /** CheckedLog2: the scale is a power of two (within TFLite's 1e-3 tolerance on log2). */
  static boolean isPowerOfTwo(float scale) {
    double log2 = Math.log(scale) / Math.log(2);
    return Math.abs(log2 - Math.rint(log2)) < 1e-3;
  }
}
