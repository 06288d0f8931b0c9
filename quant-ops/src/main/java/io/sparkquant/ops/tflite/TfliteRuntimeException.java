package io.sparkquant.ops.tflite;

/** The real TFLite runtime refused a model or an invocation; the message carries TFLite's own message. */
public class TfliteRuntimeException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public TfliteRuntimeException(String message) {
    super(message);
  }

  public TfliteRuntimeException(String message, Throwable cause) {
    super(message, cause);
  }
}
