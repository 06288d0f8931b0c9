package io.sparkquant.ops.tflite;

import java.util.Optional;

/**
 * The TFLite builtin operators SparkQuant writes and reads, with their schema.fbs codes. Which of them a
 * runtime runs, at which versions and with which options, is its {@link OpResolver}'s answer.
 */
public enum BuiltinOp {
  ADD(0),
  AVERAGE_POOL_2D(1),
  CONCATENATION(2),
  CONV_2D(3),
  DEPTHWISE_CONV_2D(4),
  DEQUANTIZE(6),
  FULLY_CONNECTED(9),
  LOGISTIC(14),
  MAX_POOL_2D(17),
  MUL(18),
  RELU(19),
  RELU6(21),
  RESHAPE(22),
  SOFTMAX(25),
  TANH(28),
  PAD(34),
  MEAN(40),
  SUB(41),
  STRIDED_SLICE(45),
  TRANSPOSE_CONV(67),
  RESIZE_NEAREST_NEIGHBOR(97),
  LEAKY_RELU(98),
  QUANTIZE(114),
  HARD_SWISH(117);

  private final int code;

  BuiltinOp(int code) {
    this.code = code;
  }

  public int code() {
    return code;
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
