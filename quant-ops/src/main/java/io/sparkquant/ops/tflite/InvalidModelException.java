package io.sparkquant.ops.tflite;

/**
 * A .tflite file that cannot be read: wrong identifier or schema version, offsets outside the file,
 * indices outside their tables, buffer sizes that do not match the tensor shape, or features SparkQuant
 * does not support (several subgraphs, tensor types outside {@link TensorType}). The message says what is
 * wrong and, where known, which tensor or operator.
 */
public class InvalidModelException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public InvalidModelException(String message) {
    super(message);
  }

  public InvalidModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
