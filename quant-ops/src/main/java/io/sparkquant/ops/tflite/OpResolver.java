package io.sparkquant.ops.tflite;

/**
 * The operators a runtime registers, as TFLite's OpResolver (core/api/op_resolver.h) answers
 * {@code FindOp(op, version)}. {@link ModelCheck#verify} and {@link TfliteModelSummary} ask it which ops,
 * versions and options a model may use, so those lists come from the registrations themselves.
 */
public interface OpResolver {

  /** The registration of {@code op}, or null when this runtime does not run it. */
  Registration find(BuiltinOp op);

  /**
   * What the registered prepares refuse in a model that passed {@link ModelCheck}'s graph checks (operand
   * counts, shapes, per-channel scales, bias sizes, type combinations: what TFLite's kernels check in Prepare),
   * as one line naming the operator; null when every operator prepares.
   */
  default String prepareProblem(TfliteModel model) {
    return null;
  }

  /** What a registration declares besides its kernel: the versions it accepts and the options it reads. */
  interface Registration {

    BuiltinOp op();

    int minVersion();

    int maxVersion();

    /** The options record the op reads, or null for an op without builtin options. */
    Class<? extends OperatorOptions> optionsType();

    /** False when the op may omit its options (RESHAPE may take its shape from a second input instead). */
    boolean optionsRequired();
  }
}
