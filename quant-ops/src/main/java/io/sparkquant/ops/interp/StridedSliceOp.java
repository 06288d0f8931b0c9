package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;

import io.sparkquant.ops.kernels.StridedSlice;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.Arrays;

/**
 * STRIDED_SLICE (strided_slice.cc): int8, int16, int32, float32 (a copy, so quantization passes through), 1-D to
 * 5-D, with constant int32 begin/end/strides (the converter's form), on {@link StridedSlice}.
 */
final class StridedSliceOp {

  /** strided_slice.cc: "StridedSlice op only supports 1D-5D input arrays." */
  private static final int MAX_RANK = 5;

  private StridedSliceOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(4, 4);
    OperatorOptions.StridedSliceParams o = c.options(OperatorOptions.StridedSliceParams.class);
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    TensorType type = input.type();
    if (type != output.type() || !(type == TensorType.INT8 || type == TensorType.INT16
        || type == TensorType.INT32 || type == TensorType.FLOAT32)) {
      throw typeError("(input, output) = (" + types(input, output) + ")");
    }
    if (o.ellipsisMask() != 0 || o.newAxisMask() != 0) {
      throw new InvalidModelException("ellipsis_mask " + o.ellipsisMask() + " and new_axis_mask " + o.newAxisMask()
          + " must be 0 (TFLite 2.6.2 implements neither)");
    }
    if (o.offset()) {
      throw new InvalidModelException("offset = true is a newer STRIDED_SLICE form that TFLite 2.6.2 does not read");
    }
    int rank = input.shape().length;
    if (rank < 1 || rank > MAX_RANK) {
      throw new InvalidModelException("input " + c.label(0) + " has rank " + rank + ", expected 1.." + MAX_RANK);
    }
    final int[] begin = indices(c, 1, "begin", rank);
    final int[] end = indices(c, 2, "end", rank);
    final int[] strides = indices(c, 3, "strides", rank);
    for (int axis = 0; axis < rank; axis++) {
      if (strides[axis] == 0) {
        throw new InvalidModelException("strides " + Arrays.toString(strides) + " has 0 at axis " + axis
            + " (stride value has to be non-zero)");
      }
    }
    int outOfRank = ~((1 << rank) - 1);
    if (((o.beginMask() | o.endMask() | o.shrinkAxisMask()) & outOfRank) != 0) {
      throw new InvalidModelException("masks (begin " + o.beginMask() + ", end " + o.endMask() + ", shrink_axis "
          + o.shrinkAxisMask() + ") name axes beyond rank " + rank);
    }
    return new PreparedOp(c.op) {
      private StridedSlice.Plan plan(int[] inputShape) {
        if (inputShape.length != begin.length) {
          throw new InvalidModelException("input has rank " + inputShape.length + ", begin/end/strides have "
              + begin.length + " entries");
        }
        try {
          return StridedSlice.plan(inputShape, begin, end, strides, o.beginMask(), o.endMask(), o.shrinkAxisMask());
        } catch (IllegalArgumentException e) {
          throw new InvalidModelException(e.getMessage(), e);
        }
      }

      @Override
      int[] outputShape(int[][] shapes) {
        return plan(shapes[inputs[0]]).outputShape();
      }

      @Override
      Object compute(Object[] values, int[][] shapes, int[] outShape) {
        StridedSlice.Plan p = plan(shapes[inputs[0]]);
        Object out = TensorValue.allocate(type, elements(outShape));
        switch (type) {
          case INT8 -> StridedSlice.eval(p, (byte[]) values[inputs[0]], (byte[]) out);
          case INT16 -> StridedSlice.eval(p, (short[]) values[inputs[0]], (short[]) out);
          case INT32 -> StridedSlice.eval(p, (int[]) values[inputs[0]], (int[]) out);
          default -> StridedSlice.eval(p, (float[]) values[inputs[0]], (float[]) out);
        }
        return out;
      }
    };
  }

  /** Input {@code k}: a constant 1-D int32 tensor with one entry per input axis. */
  private static int[] indices(OpContext c, int k, String what, int rank) {
    TfliteTensor t = c.input(k);
    if (t.type() != TensorType.INT32 || t.shape().length != 1) {
      throw new InvalidModelException(what + " " + c.label(k) + " must be a 1-D INT32 tensor, got " + t.type() + " "
          + Arrays.toString(t.shape()));
    }
    int[] values = (int[]) c.constant(k);
    if (values.length != rank) {
      throw new InvalidModelException(what + " " + c.label(k) + " has " + values.length
          + " entries, expected one per input axis (" + rank + ")");
    }
    return values;
  }
}
