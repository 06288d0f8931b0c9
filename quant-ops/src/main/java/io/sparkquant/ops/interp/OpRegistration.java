package io.sparkquant.ops.interp;

import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.OpResolver;
import io.sparkquant.ops.tflite.OperatorOptions;
import java.util.List;

/**
 * One op's registration, as TFLite's {@code AddBuiltin(op, registration, minVersion, maxVersion)}: the
 * versions accepted, the options it reads, the type combinations its prepare accepts (as named in
 * {@link Interpreter#SUPPORTED}) and the prepare that returns the prepared eval.
 */
record OpRegistration(BuiltinOp op, int minVersion, int maxVersion, Class<? extends OperatorOptions> optionsType,
    boolean optionsRequired, List<String> types, Prepare prepare) implements OpResolver.Registration {

  OpRegistration {
    types = List.copyOf(types);
  }

  /** Prepare (TfLiteRegistration.prepare): checks the operator and computes what eval needs. */
  @FunctionalInterface
  interface Prepare {
    PreparedOp apply(OpContext context);
  }
}
