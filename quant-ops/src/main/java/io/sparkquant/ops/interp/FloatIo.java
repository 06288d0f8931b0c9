package io.sparkquant.ops.interp;

import io.sparkquant.ops.kernels.Dequantize;
import io.sparkquant.ops.kernels.Quantize;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTensor;

/**
 * Float views of a model's edge tensors, so callers that think in floats (evaluation, error reports) can feed
 * and read float, int8 and int16 tensors alike. Conversions are exactly TFLite's QUANTIZE and DEQUANTIZE
 * kernels, so quantizing an input here and running an int8-I/O model gives the same integers as the float-I/O
 * variant of the model computes with its own leading QUANTIZE.
 */
public final class FloatIo {

  private FloatIo() {}

  /**
   * Converts float values into the element array {@code tensor} takes: the array itself for FLOAT32; for
   * INT8/INT16 {@code clamp(roundHalfAwayFromZero(x / scale) + zeroPoint)} with the tensor's per-tensor
   * parameters, as TFLite's QUANTIZE op ({@link Quantize#affineQuantize}).
   */
  public static Object fromFloats(TfliteTensor tensor, float[] values) {
    return switch (tensor.type()) {
      case FLOAT32 -> values;
      case INT8 -> {
        byte[] q = new byte[values.length];
        TfliteQuantization p = perTensor(tensor);
        Quantize.affineQuantize(values, p.scale()[0], (int) p.zeroPoint()[0], Byte.MIN_VALUE, Byte.MAX_VALUE, q);
        yield q;
      }
      case INT16 -> {
        short[] q = new short[values.length];
        TfliteQuantization p = perTensor(tensor);
        Quantize.affineQuantize(values, p.scale()[0], (int) p.zeroPoint()[0], Short.MIN_VALUE, Short.MAX_VALUE, q);
        yield q;
      }
      default -> throw new IllegalArgumentException("tensor '" + tensor.name() + "' is " + tensor.type()
          + "; float values convert only to FLOAT32, INT8 or INT16 tensors");
    };
  }

  /**
   * The real values of a tensor's elements: FLOAT32 as is (not copied); INT8/INT16 dequantized as TFLite's
   * DEQUANTIZE op does, {@code (float) (scale * (q - zeroPoint))} with a double scale.
   */
  public static float[] toFloats(TfliteTensor tensor, Object data) {
    if (data instanceof float[] f) {
      return f;
    }
    if (data instanceof byte[] b && tensor.type() == io.sparkquant.ops.tflite.TensorType.INT8) {
      TfliteQuantization p = perTensor(tensor);
      float[] out = new float[b.length];
      Dequantize.dequantizeInt8(b, p.scale()[0], (int) p.zeroPoint()[0], out);
      return out;
    }
    if (data instanceof short[] s && tensor.type() == io.sparkquant.ops.tflite.TensorType.INT16) {
      TfliteQuantization p = perTensor(tensor);
      float[] out = new float[s.length];
      Dequantize.dequantizeInt16(s, p.scale()[0], (int) p.zeroPoint()[0], out);
      return out;
    }
    throw new IllegalArgumentException("tensor '" + tensor.name() + "' is " + tensor.type() + " with a "
        + (data == null ? "null" : data.getClass().getSimpleName()) + " value; only FLOAT32, INT8 and INT16 "
        + "tensors have float values");
  }

  private static TfliteQuantization perTensor(TfliteTensor t) {
    TfliteQuantization q = t.quantization();
    if (q == null || q.scale().length != 1) {
      throw new IllegalArgumentException("tensor '" + t.name() + "' of type " + t.type() + " needs per-tensor "
          + "quantization parameters, got " + (q == null ? "none" : q.scale().length + " scales"));
    }
    return q;
  }
}
