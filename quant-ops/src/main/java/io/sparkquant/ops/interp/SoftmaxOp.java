package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.requireZeroPoint0;
import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.Softmax;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;

/** SOFTMAX (activations.cc): int8, int16, float32, on {@link Softmax}. */
final class SoftmaxOp {

  private SoftmaxOp() {}

  /** activations.cc SoftmaxPrepare: rank >= 1; the output has the input's shape. */
  private abstract static class SoftmaxEval extends PreparedOp {
    SoftmaxEval(OpContext c) {
      super(c.op);
    }

    @Override
    int[] outputShape(int[][] shapes) {
      int[] s = shapes[inputs[0]];
      if (s.length == 0 || s[s.length - 1] == 0) {
        throw new InvalidModelException("input shape " + java.util.Arrays.toString(s)
            + " needs rank >= 1 and a non-empty last dimension");
      }
      return s;
    }
  }

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(1, 1);
    OperatorOptions.SoftmaxParams o = c.options(OperatorOptions.SoftmaxParams.class);
    if (!Float.isFinite(o.beta())) {
      throw new InvalidModelException("beta is " + o.beta() + ", expected a finite value");
    }
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    if (input.type() == TensorType.INT8 && output.type() == TensorType.INT8) {
      if (scale(output) != 1f / 256 || zeroPoint(output) != -128) {
        throw new InvalidModelException("int8 SOFTMAX output must have scale 1/256 and zero point -128, got "
            + scale(output) + " and " + zeroPoint(output));
      }
      Softmax.LutParams p = Softmax.prepareInt8(scale(input), o.beta(), scale(output), zeroPoint(output));
      return new SoftmaxEval(c) {
        @Override
        Object compute(Object[] values, int[][] shapes, int[] s) {
          int depth = s[s.length - 1];
          byte[] out = new byte[elements(s)];
          Softmax.evalInt8(p, out.length / depth, depth, (byte[]) values[inputs[0]], out);
          return out;
        }
      };
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32) {
      final float beta = o.beta();
      return new SoftmaxEval(c) {
        @Override
        Object compute(Object[] values, int[][] shapes, int[] s) {
          int depth = s[s.length - 1];
          float[] out = new float[elements(s)];
          Softmax.evalFloat(beta, out.length / depth, depth, (float[]) values[inputs[0]], out);
          return out;
        }
      };
    }
    if (input.type() == TensorType.INT16 && output.type() == TensorType.INT16) {
      requireZeroPoint0(output);
      Softmax.Int16Params p = Softmax.prepareInt16(scale(input), o.beta());
      return new SoftmaxEval(c) {
        @Override
        Object compute(Object[] values, int[][] shapes, int[] s) {
          int depth = s[s.length - 1];
          short[] out = new short[elements(s)];
          Softmax.evalInt16(p, out.length / depth, depth, (short[]) values[inputs[0]], out);
          return out;
        }
      };
    }
    throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8 -> INT8, INT16 -> INT16, "
        + "FLOAT32");
  }
}
