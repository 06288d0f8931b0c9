package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.requireZeroPoint0;
import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.Logistic;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;

/**
 * LOGISTIC (activations.cc SigmoidPrepare/SigmoidEval): int8, int16 with a non-power-of-two input scale, float32. The
 * quantized output parameters are fixed, as SigmoidPrepare requires: int8 scale 1/256 and zero point -128 (the range
 * [0, 1)), int16 scale 1/32768 and zero point 0.
 */
final class LogisticOp {

  private LogisticOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(1, 1);
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    if (input.type() == TensorType.INT8 && output.type() == TensorType.INT8) {
      requireOutputParams(output, 256, -128);
      byte[] table = Logistic.prepareInt8(scale(input), zeroPoint(input), scale(output), zeroPoint(output));
      return PreparedOp.elementwise(c.op, in -> {
        byte[] out = new byte[((byte[]) in).length];
        Logistic.evalLookupTable(table, (byte[]) in, out);
        return out;
      });
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32) {
      return PreparedOp.elementwise(c.op, in -> {
        float[] out = new float[((float[]) in).length];
        Logistic.evalFloat((float[]) in, out);
        return out;
      });
    }
    if (input.type() == TensorType.INT16 && output.type() == TensorType.INT16) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
      requireOutputParams(output, 32768, 0);
      Logistic.Int16Params p = Logistic.prepareInt16(scale(input), scale(output), false);
      return PreparedOp.elementwise(c.op, in -> {
        short[] out = new short[((short[]) in).length];
        Logistic.evalInt16(p, (short[]) in, out);
        return out;
      });
    }
    throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16, FLOAT32");
  }

  /**
   * The output must have scale exactly {@code 1/scaleDenominator} and the given zero point: the kernels' lookup
   * tables and fixed-point results assume them, so another value would silently rescale every output (TFLite's
   * Prepare refuses the model). Shared by TANH.
   */
  static void requireOutputParams(TfliteTensor output, int scaleDenominator, int zeroPoint) {
    float scale = scale(output);
    int zp = zeroPoint(output);
    if (scale != 1f / scaleDenominator || zp != zeroPoint) {
      throw new InvalidModelException("output '" + output.name() + "' of type " + output.type() + " must have scale 1/"
          + scaleDenominator + " and zero point " + zeroPoint + ", got scale " + scale + " and zero point " + zp);
    }
  }
}
