package io.sparkquant.ops.tflite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One tensor of a TFLite model. {@code data} holds the constant's little-endian bytes (weights, biases,
 * shapes) and is null for activations; {@code quantization} is null for unquantized tensors.
 */
public record TfliteTensor(String name, TensorType type, int[] shape, byte[] data, TfliteQuantization quantization) {

  public boolean isConstant() {
    return data != null;
  }

  public int elementCount() {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** An activation (no data). */
  public static TfliteTensor activation(String name, TensorType type, int[] shape, TfliteQuantization quantization) {
    return new TfliteTensor(name, type, shape, null, quantization);
  }

  public static TfliteTensor constantFloat32(String name, int[] shape, float[] values) {
    return new TfliteTensor(name, TensorType.FLOAT32, shape, littleEndian(values), null);
  }

  /** INT8 or UINT8 constant (one byte per element). */
  public static TfliteTensor constantBytes(String name, TensorType type, int[] shape, byte[] values,
      TfliteQuantization quantization) {
    if (type.elementBytes() != 1) {
      throw new IllegalArgumentException("constantBytes takes a 1-byte type, got " + type);
    }
    return new TfliteTensor(name, type, shape, values.clone(), quantization);
  }

  public static TfliteTensor constantInt32(String name, int[] shape, int[] values, TfliteQuantization quantization) {
    return new TfliteTensor(name, TensorType.INT32, shape, littleEndian(values), quantization);
  }

  public static TfliteTensor constantInt64(String name, int[] shape, long[] values, TfliteQuantization quantization) {
    return new TfliteTensor(name, TensorType.INT64, shape, littleEndian(values), quantization);
  }

  /** The FLOAT32 constant's values. */
  public float[] floatValues() {
    requireConstant(TensorType.FLOAT32);
    float[] v = new float[data.length / 4];
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
    return v;
  }

  /** The INT32 constant's values. */
  public int[] intValues() {
    requireConstant(TensorType.INT32);
    int[] v = new int[data.length / 4];
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(v);
    return v;
  }

  /** The INT64 constant's values. */
  public long[] longValues() {
    requireConstant(TensorType.INT64);
    long[] v = new long[data.length / 8];
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
    return v;
  }

  /** The INT16 constant's values. */
  public short[] shortValues() {
    requireConstant(TensorType.INT16);
    short[] v = new short[data.length / 2];
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(v);
    return v;
  }

  private void requireConstant(TensorType expected) {
    if (data == null || type != expected) {
      throw new IllegalStateException("Tensor '" + name + "' is " + type + (data == null ? " without data" : "")
          + ", expected a " + expected + " constant");
    }
  }

  public static byte[] littleEndian(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return b.array();
  }

  public static byte[] littleEndian(int[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(values);
    return b.array();
  }

  public static byte[] littleEndian(short[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    b.asShortBuffer().put(values);
    return b.array();
  }

  public static byte[] littleEndian(long[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values);
    return b.array();
  }
}
