package io.sparkquant.ops.interp;

import io.sparkquant.ops.kernels.Add;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteOperator;
import java.util.Arrays;

/**
 * The prepared form of SUB and MUL: two inputs of one type broadcast NumPy-style (kernel_util.cc
 * CalculateShapeForBroadcast) to the output, which has their type.
 */
final class BroadcastOp {

  private BroadcastOp() {}

  /** One kernel call on the arrays of the two inputs and the output. */
  @FunctionalInterface
  interface Kernel {
    void eval(int[] shape1, Object input1, int[] shape2, Object input2, int[] outputShape, Object output);
  }

  /**
   * {@code maxBroadcastRank}: TFLite's broadcasting kernels index through fixed-rank descriptors
   * (NdArrayDesc&lt;4&gt;); inputs of equal shape take the flat path at any rank.
   */
  static PreparedOp of(TfliteOperator op, TensorType type, int maxBroadcastRank, Kernel kernel) {
    return new PreparedOp(op) {
      @Override
      int[] outputShape(int[][] shapes) {
        int[] s1 = shapes[inputs[0]];
        int[] s2 = shapes[inputs[1]];
        if (Arrays.equals(s1, s2)) {
          return s1;
        }
        if (Math.max(s1.length, s2.length) > maxBroadcastRank) {
          throw InvalidModelException.unsupported("broadcasting " + Arrays.toString(s1) + " with "
              + Arrays.toString(s2) + ": TFLite 2.6.2 broadcasts at most " + maxBroadcastRank + " dimensions");
        }
        try {
          int[] out = Add.broadcastShape(s1, s2);
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
        Object out = TensorValue.allocate(type, elements(outShape));
        kernel.eval(shapes[inputs[0]], values[inputs[0]], shapes[inputs[1]], values[inputs[1]], outShape, out);
        return out;
      }
    };
  }
}
