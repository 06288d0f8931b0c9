package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.requireZeroPoint0;
import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.Mean;
import io.sparkquant.ops.numerics.FixedPoint;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;

/** MEAN (reduce.cc): int8, int16, float32, on {@link Mean}. */
final class MeanOp {

  private MeanOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(2, 2);
    OperatorOptions.ReducerParams o = c.options(OperatorOptions.ReducerParams.class);
    TfliteTensor input = c.input(0);
    TfliteTensor axis = c.input(1);
    TfliteTensor output = c.output();
    if (axis.type() != TensorType.INT32) {
      throw typeError("axis must be INT32, got " + axis.type());
    }
    final int[] axes = (int[]) c.constant(1);
    final TensorType type = input.type();
    if (type != output.type() || (type != TensorType.INT8 && type != TensorType.INT16 && type != TensorType.FLOAT32)) {
      throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16 or FLOAT32");
    }
    final boolean quantized = type != TensorType.FLOAT32;
    if (type == TensorType.INT16) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
    }
    final float inScale = quantized ? scale(input) : 0f;
    final int inZp = quantized ? zeroPoint(input) : 0;
    final float outScale = quantized ? scale(output) : 0f;
    final int outZp = quantized ? zeroPoint(output) : 0;
    final FixedPoint.QuantizedMultiplier multiplier = quantized ? Mean.prepareMultiplier(inScale, outScale) : null;
    return new PreparedOp(c.op) {
      private Mean.Reduction reduction(int[] inShape) {
        try {
          return new Mean.Reduction(inShape, axes, o.keepDims());
        } catch (IllegalArgumentException e) {
          throw new InvalidModelException(e.getMessage(), e);
        }
      }

      @Override
      int[] outputShape(int[][] shapes) {
        int[] inShape = shapes[inputs[0]];
        if (elements(inShape) == 0) {
          throw new InvalidModelException("input shape " + java.util.Arrays.toString(inShape)
              + " is empty: its mean is undefined");
        }
        return reduction(inShape).outputShape();
      }

      @Override
      Object compute(Object[] values, int[][] shapes, int[] outShape) {
        Mean.Reduction r = reduction(shapes[inputs[0]]);
        Object outData = TensorValue.allocate(type, elements(outShape));
        switch (type) {
          case INT8 -> Mean.evalInt8(r, (byte[]) values[inputs[0]], inScale, inZp, (byte[]) outData, outScale, outZp,
              multiplier);
          case INT16 -> Mean.evalInt16(r, (short[]) values[inputs[0]], inScale, (short[]) outData, outScale,
              multiplier);
          default -> Mean.evalFloat(r, (float[]) values[inputs[0]], (float[]) outData);
        }
        return outData;
      }
    };
  }
}
