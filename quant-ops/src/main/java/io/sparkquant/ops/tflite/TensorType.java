package io.sparkquant.ops.tflite;

/** TFLite tensor element types, with their schema.fbs codes and element sizes. */
public enum TensorType {
  FLOAT32(0, 4),
  FLOAT16(1, 2),
  INT32(2, 4),
  UINT8(3, 1),
  INT64(4, 8),
  BOOL(6, 1),
  INT16(7, 2),
  INT8(9, 1);

  private final int code;
  private final int elementBytes;

  TensorType(int code, int elementBytes) {
    this.code = code;
    this.elementBytes = elementBytes;
  }

  public int code() {
    return code;
  }

  public int elementBytes() {
    return elementBytes;
  }

  /** The type for a schema code; throws naming the code and the supported types. */
  public static TensorType fromCode(int code) {
    for (TensorType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    throw new IllegalArgumentException("Unsupported TFLite tensor type code " + code
        + "; supported: " + java.util.Arrays.toString(values()));
  }
}
