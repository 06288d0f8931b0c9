package io.sparkquant.ops.interp;

import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTensor;

/**
 * What an op's prepare sees (TFLite's TfLiteContext + TfLiteNode at Prepare): the operator, its tensors'
 * declarations and the decoded constants. Failures are IllegalArgumentExceptions that the interpreter
 * prefixes with the operator's index and name.
 */
final class OpContext {

  static final int INT8_MIN = Byte.MIN_VALUE;
  static final int INT8_MAX = Byte.MAX_VALUE;
  static final int INT16_MIN = Short.MIN_VALUE;
  static final int INT16_MAX = Short.MAX_VALUE;

  final TfliteOperator op;
  private final TfliteModel model;
  /** Decoded constants by tensor index; null for activations. */
  private final Object[] constants;

  OpContext(TfliteModel model, Object[] constants, TfliteOperator op) {
    this.model = model;
    this.constants = constants;
    this.op = op;
  }

  TfliteTensor input(int k) {
    if (k >= op.inputs().length || op.inputs()[k] < 0) {
      throw new IllegalArgumentException("missing input " + k);
    }
    return model.tensor(op.inputs()[k]);
  }

  /** Input {@code k}, or null when it is omitted (index -1 or past the end). */
  TfliteTensor optionalInput(int k) {
    return k < op.inputs().length && op.inputs()[k] >= 0 ? model.tensor(op.inputs()[k]) : null;
  }

  TfliteTensor output() {
    if (op.outputs().length != 1) {
      throw new IllegalArgumentException("expected 1 output, got " + op.outputs().length);
    }
    return model.tensor(op.outputs()[0]);
  }

  <T extends OperatorOptions> T options(Class<T> type) {
    if (!type.isInstance(op.options())) {
      throw new IllegalArgumentException("expected " + type.getSimpleName() + " options, got " + op.options());
    }
    return type.cast(op.options());
  }

  /** The decoded value of input {@code k}, which must be a constant. */
  Object constant(int k) {
    Object c = constants[op.inputs()[k]];
    if (c == null) {
      throw new IllegalArgumentException("input " + k + " '" + input(k).name() + "' must be a constant");
    }
    return c;
  }

  /** The decoded value of input {@code k}, or null when it is omitted; a present input must be a constant. */
  Object optionalConstant(int k) {
    return optionalInput(k) == null ? null : constant(k);
  }

  /** The decoded value of input {@code k} if it is a constant, else null. */
  Object constantOrNull(int k) {
    return constants[op.inputs()[k]];
  }

  static float scale(TfliteTensor t) {
    return requireQuantization(t).scale()[0];
  }

  static int zeroPoint(TfliteTensor t) {
    return (int) requireQuantization(t).zeroPoint()[0];
  }

  static TfliteQuantization requireQuantization(TfliteTensor t) {
    if (t.quantization() == null) {
      throw new IllegalArgumentException("tensor '" + t.name() + "' of type " + t.type()
          + " has no quantization parameters");
    }
    return t.quantization();
  }

  static void requireZeroPoint0(TfliteTensor t) {
    if (zeroPoint(t) != 0) {
      throw new IllegalArgumentException("int16 tensor '" + t.name() + "' must have zero point 0, got "
          + zeroPoint(t));
    }
  }

  static IllegalArgumentException typeError(String what) {
    return new IllegalArgumentException("unsupported type combination " + what);
  }

  static String types(TfliteTensor... ts) {
    StringBuilder sb = new StringBuilder();
    for (TfliteTensor t : ts) {
      sb.append(sb.length() == 0 ? "" : ", ").append(t == null ? "none" : t.type());
    }
    return sb.toString();
  }
}
