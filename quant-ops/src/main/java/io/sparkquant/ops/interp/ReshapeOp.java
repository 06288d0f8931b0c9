package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;

import io.sparkquant.ops.kernels.Reshape;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TfliteTensor;

/** RESHAPE (reshape.cc): any type; the output shares the input's array. */
final class ReshapeOp {

  private ReshapeOp() {}

  static PreparedOp prepare(OpContext c) {
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
      throw new IllegalArgumentException("the new shape must come from a constant INT32 shape tensor or the options");
    }
    final int[] target = newShape;
    return new PreparedOp(c.op) {
      @Override
      void eval(Object[] values, int[][] shapes) {
        int n = elements(shapes[inputs[0]]);
        values[outputs[0]] = values[inputs[0]]; // values are never mutated after they are written: share
        shapes[outputs[0]] = Reshape.resolveShape(target, n);
      }
    };
  }
}
