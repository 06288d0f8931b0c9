package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;

import io.sparkquant.ops.kernels.Reshape;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.Arrays;

/** RESHAPE (reshape.cc): any type; the output shares the input's array. */
final class ReshapeOp {

  private ReshapeOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(1, 2);
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    if (input.type() != output.type()) {
      throw typeError("(input, output) = (" + types(input, output) + ")");
    }
    int[] newShape = null;
    TfliteTensor shapeTensor = c.optionalInput(1);
    if (shapeTensor != null && c.constantOrNull(1) instanceof int[] s && shapeTensor.shape().length == 1) {
      newShape = s;
    } else if (c.op.options() instanceof OperatorOptions.ReshapeParams r && r.newShape() != null) {
      newShape = r.newShape();
    } else if (shapeTensor == null) {
      newShape = output.shape();
    }
    if (newShape == null) {
      throw new InvalidModelException("the new shape must come from a constant INT32 shape tensor or the options");
    }
    for (int d : newShape) {
      if (d < -1) {
        throw new InvalidModelException("new shape " + Arrays.toString(newShape) + " has dimension " + d
            + ", expected >= 0 or -1 (inferred)");
      }
    }
    final int[] target = newShape;
    return new PreparedOp(c.op) {
      @Override
      int[] outputShape(int[][] shapes) {
        try {
          return Reshape.resolveShape(target, elements(shapes[inputs[0]]));
        } catch (InvalidModelException e) {
          throw e;
        } catch (IllegalArgumentException e) {
          throw new InvalidModelException(e.getMessage(), e);
        }
      }

      @Override
      Object compute(Object[] values, int[][] shapes, int[] outShape) {
        return values[inputs[0]]; // values are never mutated after they are written: share
      }
    };
  }
}
