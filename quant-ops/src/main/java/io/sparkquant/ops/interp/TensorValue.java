package io.sparkquant.ops.interp;

import io.sparkquant.ops.tflite.TensorType;
import java.util.Arrays;

/**
 * A tensor value: element type, shape and a flat row-major primitive array ({@code float[]} for
 * FLOAT32, {@code byte[]} for INT8, {@code short[]} for INT16 and FLOAT16 bits, {@code int[]} for INT32,
 * {@code long[]} for INT64). The array is not copied. Arrays the interpreter returns belong to the caller,
 * except that a RESHAPE passes its input array through: an output computed by RESHAPE directly from a model
 * input is that input's array; and {@link Interpreter#runAll} hands out constant tensors as the interpreter's
 * own arrays (read-only). Do not mutate an input while a run uses it.
 */
public record TensorValue(TensorType type, int[] shape, Object data) {

  public TensorValue {
    shape = shape.clone();
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n *= d;
    }
    Class<?> expected = arrayClass(type);
    if (data == null || data.getClass() != expected) {
      throw new IllegalArgumentException("a " + type + " tensor needs a " + expected.getSimpleName() + ", got "
          + (data == null ? "null" : data.getClass().getSimpleName()));
    }
    int length = java.lang.reflect.Array.getLength(data);
    if (length != n) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " elements, data has "
          + length);
    }
  }

  public static TensorValue ofFloat(int[] shape, float[] data) {
    return new TensorValue(TensorType.FLOAT32, shape, data);
  }

  public static TensorValue ofInt8(int[] shape, byte[] data) {
    return new TensorValue(TensorType.INT8, shape, data);
  }

  public static TensorValue ofInt16(int[] shape, short[] data) {
    return new TensorValue(TensorType.INT16, shape, data);
  }

  public static TensorValue ofInt32(int[] shape, int[] data) {
    return new TensorValue(TensorType.INT32, shape, data);
  }

  @Override
  public int[] shape() {
    return shape.clone();
  }

  public int elementCount() {
    return java.lang.reflect.Array.getLength(data);
  }

  public float[] floats() {
    return (float[]) data;
  }

  public byte[] int8s() {
    return (byte[]) data;
  }

  public short[] int16s() {
    return (short[]) data;
  }

  public int[] int32s() {
    return (int[]) data;
  }

  /** The primitive array class that holds elements of a tensor type. */
  public static Class<?> arrayClass(TensorType type) {
    return switch (type) {
      case FLOAT32 -> float[].class;
      case INT8, UINT8, BOOL -> byte[].class;
      case INT16, FLOAT16 -> short[].class;
      case INT32 -> int[].class;
      case INT64 -> long[].class;
    };
  }

  /** A new zeroed array for {@code n} elements of a type. */
  static Object allocate(TensorType type, int n) {
    return java.lang.reflect.Array.newInstance(arrayClass(type).getComponentType(), n);
  }

  @Override
  public String toString() {
    return "Tensor[" + type + " " + Arrays.toString(shape) + "]";
  }
}
