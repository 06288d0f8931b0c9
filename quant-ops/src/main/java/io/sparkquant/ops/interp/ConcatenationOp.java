package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.requireZeroPoint0;
import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.Concatenation;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;

/**
 * CONCATENATION (concatenation.cc): int8 with every input at the output's scale and zero point, int16 with zero
 * points 0, float32; activation NONE only, as TFLite 2.6.2's Prepare requires. On {@link Concatenation}.
 */
final class ConcatenationOp {

  private ConcatenationOp() {}

  static PreparedOp prepare(OpContext c) {
    int n = c.op.inputs().length;
    c.requireOperands(1, Math.max(1, n));
    OperatorOptions.ConcatenationParams o = c.options(OperatorOptions.ConcatenationParams.class);
    if (o.fusedActivation() != FusedActivation.NONE) {
      throw InvalidModelException.unsupported("fused activation " + o.fusedActivation()
          + " is not supported (TFLite 2.6.2 runs only NONE)");
    }
    TfliteTensor output = c.output();
    TensorType type = output.type();
    if (type != TensorType.INT8 && type != TensorType.INT16 && type != TensorType.FLOAT32) {
      throw typeError("output " + type + "; supported: INT8, INT16, FLOAT32");
    }
    for (int i = 0; i < n; i++) {
      TfliteTensor t = c.input(i);
      if (t.type() != type) {
        throw typeError("(input " + i + ", output) = (" + types(t, output) + "); all must have one type");
      }
      if (type == TensorType.INT8 && (scale(t) != scale(output) || zeroPoint(t) != zeroPoint(output))) {
        throw new InvalidModelException("int8 input " + c.label(i) + " has scale " + scale(t) + " and zero point "
            + zeroPoint(t) + ", the output " + scale(output) + " and " + zeroPoint(output)
            + ": TFLite's int8 concatenation does not rescale, they must be equal");
      }
      if (type == TensorType.INT16) {
        requireZeroPoint0(t);
      }
    }
    if (type == TensorType.INT16) {
      requireZeroPoint0(output);
    }
    final int axis = o.axis();
    return new PreparedOp(c.op) {
      private int[][] inShapes(int[][] shapes) {
        int[][] s = new int[inputs.length][];
        for (int i = 0; i < inputs.length; i++) {
          s[i] = shapes[inputs[i]];
        }
        return s;
      }

      @Override
      int[] outputShape(int[][] shapes) {
        try {
          int[] out = Concatenation.outputShape(inShapes(shapes), axis);
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
        Object[] ins = new Object[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
          ins[i] = values[inputs[i]];
        }
        Object out = TensorValue.allocate(type, elements(outShape));
        Concatenation.eval(inShapes(shapes), ins, axis, out);
        return out;
      }
    };
  }
}
