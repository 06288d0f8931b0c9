package io.sparkquant.ops.tflite;

/**
 * One operator. {@code opName} is the schema's name for the builtin code (or the custom code), kept
 * even for operators outside {@link BuiltinOp} so that errors can name them; {@code op} is null then.
 * Tensor indices of -1 mark omitted optional inputs (e.g. no bias).
 */
public record TfliteOperator(BuiltinOp op, String opName, int builtinCode, int version, int[] inputs, int[] outputs,
    OperatorOptions options) {

  public static TfliteOperator of(BuiltinOp op, int version, int[] inputs, int[] outputs, OperatorOptions options) {
    return new TfliteOperator(op, op.name(), op.code(), version, inputs, outputs, options);
  }
}
