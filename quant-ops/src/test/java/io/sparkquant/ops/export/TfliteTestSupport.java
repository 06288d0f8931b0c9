package io.sparkquant.ops.export;

import io.sparkquant.ops.numerics.QuantParams;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteRuntime;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Runs a model with float values whatever its I/O type (int8 I/O is quantized with the model's own parameters). */
final class TfliteTestSupport {

  private TfliteTestSupport() {}

  static float[] runFloat(TfliteRuntime rt, float[] x) {
    Object input;
    if (rt.inputType(0) == TensorType.INT8) {
      QuantParams p = new QuantParams(rt.inputScale(0), rt.inputZeroPoint(0));
      byte[] q = new byte[x.length];
      for (int i = 0; i < x.length; i++) {
        q[i] = (byte) p.quantize(x[i], -128, 127);
      }
      input = q;
    } else {
      input = x;
    }
    Object out = rt.run(input)[0];
    if (out instanceof float[] f) {
      return f;
    }
    byte[] q = (byte[]) out;
    QuantParams p = new QuantParams(rt.outputScale(0), rt.outputZeroPoint(0));
    float[] y = new float[q.length];
    for (int i = 0; i < q.length; i++) {
      y[i] = p.dequantize(q[i]);
    }
    return y;
  }

  static float[] flat(INDArray a) {
    return a.dup('c').reshape(a.length()).toFloatVector();
  }
}
