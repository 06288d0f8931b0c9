package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.requireZeroPoint0;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.Pad;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;

/** PAD (pad.cc): int8, int16, float32 with constant INT32 paddings, on {@link Pad}; padded with the output zero point. */
final class PadOp {

  private PadOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(2, 2);
    TfliteTensor input = c.input(0);
    TfliteTensor paddingsTensor = c.input(1);
    TfliteTensor output = c.output();
    TensorType type = input.type();
    if (type != output.type() || (type != TensorType.INT8 && type != TensorType.INT16 && type != TensorType.FLOAT32)) {
      throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16, FLOAT32");
    }
    if (paddingsTensor.type() != TensorType.INT32) {
      throw typeError("paddings must be INT32, got " + paddingsTensor.type());
    }
    final int[] paddings = (int[]) c.constant(1);
    if (type == TensorType.INT16) {
      requireZeroPoint0(output);
    }
    final int padValue = type == TensorType.FLOAT32 ? 0 : zeroPoint(output);
    return new PreparedOp(c.op) {
      @Override
      int[] outputShape(int[][] shapes) {
        try {
          int[] out = Pad.outputShape(shapes[inputs[0]], paddings);
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
        Object out = Pad.fill(values[inputs[0]], elements(outShape), padValue);
        Pad.eval(shapes[inputs[0]], paddings, values[inputs[0]], out);
        return out;
      }
    };
  }
}
