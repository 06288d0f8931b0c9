package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;

import io.sparkquant.ops.kernels.ResizeNearestNeighbor;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.Arrays;

/**
 * RESIZE_NEAREST_NEIGHBOR (resize_nearest_neighbor.cc): int8, int16, float32 NHWC with a constant INT32 size
 * {@code [2]}, on {@link ResizeNearestNeighbor}; a copy, so quantized values keep the input's parameters.
 */
final class ResizeNearestNeighborOp {

  private ResizeNearestNeighborOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(2, 2);
    OperatorOptions.ResizeNearestNeighborParams o = c.options(OperatorOptions.ResizeNearestNeighborParams.class);
    TfliteTensor input = c.input(0);
    TfliteTensor size = c.input(1);
    TfliteTensor output = c.output();
    TensorType type = input.type();
    if (type != output.type() || (type != TensorType.INT8 && type != TensorType.INT16 && type != TensorType.FLOAT32)) {
      throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16, FLOAT32");
    }
    if (size.type() != TensorType.INT32) {
      throw typeError("size must be INT32, got " + size.type());
    }
    final int[] hw = (int[]) c.constant(1);
    if (hw.length != 2 || hw[0] <= 0 || hw[1] <= 0) {
      throw new InvalidModelException("size " + c.label(1) + " is " + Arrays.toString(hw)
          + ", expected two positive values (height, width)");
    }
    return new PreparedOp(c.op) {
      @Override
      int[] outputShape(int[][] shapes) {
        int[] in = shapes[inputs[0]];
        if (in.length != 4) {
          throw new InvalidModelException("input shape " + Arrays.toString(in) + " is not 4-D (NHWC)");
        }
        int[] out = {in[0], hw[0], hw[1], in[3]};
        elements(out);
        return out;
      }

      @Override
      Object compute(Object[] values, int[][] shapes, int[] outShape) {
        Object out = TensorValue.allocate(type, elements(outShape));
        ResizeNearestNeighbor.eval(shapes[inputs[0]], values[inputs[0]], hw[0], hw[1], o.alignCorners(),
            o.halfPixelCenters(), out);
        return out;
      }
    };
  }
}
