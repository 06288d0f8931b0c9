package io.sparkquant.ops.tflite;

import java.util.Optional;

/** The TFLite builtin operators SparkQuant writes and interprets, with their schema.fbs codes. */
public enum BuiltinOp {
  ADD(0, 4),
  AVERAGE_POOL_2D(1, 3),
  CONV_2D(3, 5),
  DEPTHWISE_CONV_2D(4, 6),
  DEQUANTIZE(6, 4),
  FULLY_CONNECTED(9, 9),
  LOGISTIC(14, 3),
  MAX_POOL_2D(17, 3),
  RELU(19, 3),
  RELU6(21, 3),
  RESHAPE(22, 1),
  SOFTMAX(25, 3),
  TANH(28, 3),
  MEAN(40, 3),
  QUANTIZE(114, 2);

  private final int code;
  private final int maxVersionTflite262;

  BuiltinOp(int code, int maxVersionTflite262) {
    this.code = code;
    this.maxVersionTflite262 = maxVersionTflite262;
  }

  public int code() {
    return code;
  }

  /**
   * The highest operator version the TFLite 2.6.2 runtime registers for this op (a model with a higher
   * version fails to load). Checked against the runtime by TfliteRuntimeTest.
   */
  public int maxVersionTflite262() {
    return maxVersionTflite262;
  }

  public static Optional<BuiltinOp> fromCode(int code) {
    for (BuiltinOp op : values()) {
      if (op.code == code) {
        return Optional.of(op);
      }
    }
    return Optional.empty();
  }
}
