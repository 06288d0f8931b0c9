package io.sparkquant.ops.tflite;

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
}
