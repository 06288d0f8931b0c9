package io.sparkquant.ops.tflite;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The model verifier, shared by inspect, run, evaluate and the interpreter, with the checks TFLite makes in its
 * verifier (tools/verifier.cc), its flatbuffer parsing (core/api/flatbuffer_conversions.cc) and its kernels'
 * Prepare: {@link #structuralProblems} before {@link TfliteWriter} writes a model; {@link #requireRunnable}
 * (structure, dataflow, quantization parameters, ops, versions and options as an {@link OpResolver} registers
 * them) before a runtime prepares it, which then runs its own per-op checks; {@link #verify} all of it, the
 * registered prepares included, as a list for inspect. {@link TfliteReader} has already checked every offset,
 * length, index and buffer size in the file.
 */
public final class ModelCheck {

  /** The most elements a tensor may have: the largest Java array. */
  public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private ModelCheck() {}

  /**
   * Problems that make a model impossible to serialize or to execute at all: indices out of range, constant
   * data that does not match shape and type, malformed quantization. Empty when the model is well formed.
   */
  public static List<String> structuralProblems(TfliteModel model) {
    List<String> problems = new ArrayList<>();
    int n = model.tensors().size();
    for (int t = 0; t < n; t++) {
      TfliteTensor tensor = model.tensors().get(t);
      String label = tensorLabel(model, t);
      if (tensor.type() == null || tensor.shape() == null) {
        problems.add(label + ": type and shape are required");
        continue;
      }
      long elements = 1;
      for (int d : tensor.shape()) {
        if (d < 0) {
          problems.add(label + ": negative dimension in shape " + Arrays.toString(tensor.shape()));
        }
        elements = Math.min(elements * Math.max(d, 0), MAX_ELEMENTS + 1L);
      }
      if (elements > MAX_ELEMENTS) {
        problems.add(label + ": shape " + Arrays.toString(tensor.shape()) + " has more than " + MAX_ELEMENTS
            + " elements");
        continue;
      }
      if (tensor.isConstant() && tensor.data().length != elements * tensor.type().elementBytes()) {
        problems.add(label + ": " + tensor.type() + " " + Arrays.toString(tensor.shape()) + " needs "
            + elements * tensor.type().elementBytes() + " bytes of data, got " + tensor.data().length);
      }
      TfliteQuantization q = tensor.quantization();
      if (q != null && q.isPerChannel()) {
        int dim = q.quantizedDimension();
        if (dim < 0 || dim >= tensor.shape().length || tensor.shape()[dim] != q.scale().length) {
          problems.add(label + ": " + q.scale().length + " per-channel scales along dimension " + dim
              + " do not match shape " + Arrays.toString(tensor.shape()));
        }
      }
    }
    for (int i = 0; i < model.operators().size(); i++) {
      TfliteOperator op = model.operators().get(i);
      String label = operatorLabel(op, i);
      if (op.version() < 1) {
        problems.add(label + ": version " + op.version() + ", must be >= 1");
      }
      if (op.builtinCode() < 0) {
        problems.add(label + ": negative builtin code " + op.builtinCode());
      }
      if (op.op() != null && op.op().code() != op.builtinCode()) {
        problems.add(label + ": op " + op.op() + " has code " + op.op().code() + " but builtinCode is "
            + op.builtinCode());
      }
      for (int k = 0; k < op.inputs().length; k++) {
        int t = op.inputs()[k];
        if (t != -1 && (t < 0 || t >= n)) {
          problems.add(label + ": input " + k + " is tensor " + t + ", valid 0.." + (n - 1) + " or -1");
        }
      }
      for (int k = 0; k < op.outputs().length; k++) {
        int t = op.outputs()[k];
        if (t < 0 || t >= n) {
          problems.add(label + ": output " + k + " is tensor " + t + ", valid 0.." + (n - 1));
        }
      }
    }
    for (int t : model.inputs()) {
      if (t < 0 || t >= n) {
        problems.add("model input tensor " + t + " out of range 0.." + (n - 1));
      }
    }
    for (int t : model.outputs()) {
      if (t < 0 || t >= n) {
        problems.add("model output tensor " + t + " out of range 0.." + (n - 1));
      }
    }
    for (Map.Entry<String, byte[]> e : model.metadata().entrySet()) {
      if (e.getKey() == null || e.getValue() == null) {
        problems.add("metadata entry '" + e.getKey() + "' has a null name or value");
      }
    }
    return problems;
  }

  /**
   * Full check of a model before it is run: {@link #structuralProblems}, dataflow (every activation produced
   * once, before use), quantization parameters valid for the tensor type, operators, versions and options that
   * {@code ops} registers, and then the registered prepares ({@link OpResolver#prepareProblem}: shapes, operand
   * counts, per-channel scales, bias sizes, as TFLite's kernels check them). Empty when nothing is wrong.
   */
  public static List<String> verify(TfliteModel model, OpResolver ops) {
    List<String> problems = new ArrayList<>();
    for (Problem p : graphProblems(model, ops)) {
      problems.add(p.message());
    }
    if (problems.isEmpty()) {
      String prepare = ops.prepareProblem(model);
      if (prepare != null) {
        problems.add(prepare);
      }
    }
    return problems;
  }

  /**
   * Throws {@link InvalidModelException} unless the graph checks of {@link #verify} pass (everything but the
   * prepares, which the runtime runs itself next): the first problem, with how many more there are; the kind is
   * UNSUPPORTED when every problem is an operator or version {@code ops} does not register, else INVALID.
   */
  public static void requireRunnable(TfliteModel model, OpResolver ops) {
    List<Problem> problems = graphProblems(model, ops);
    if (problems.isEmpty()) {
      return;
    }
    Problem first = problems.stream().filter(p -> p.kind() == InvalidModelException.Kind.INVALID).findFirst()
        .orElse(problems.get(0));
    String more = problems.size() == 1 ? "" : " (and " + (problems.size() - 1) + " more problem"
        + (problems.size() == 2 ? ")" : "s)");
    throw new InvalidModelException(first.kind(), first.message() + more, null);
  }

  /** One problem and its kind. */
  private record Problem(InvalidModelException.Kind kind, String message) {
    static Problem invalid(String message) {
      return new Problem(InvalidModelException.Kind.INVALID, message);
    }

    static Problem unsupported(String message) {
      return new Problem(InvalidModelException.Kind.UNSUPPORTED, message);
    }
  }

  private static List<Problem> graphProblems(TfliteModel model, OpResolver ops) {
    List<Problem> problems = new ArrayList<>();
    for (String p : structuralProblems(model)) {
      problems.add(Problem.invalid(p));
    }
    if (!problems.isEmpty()) {
      return problems;
    }
    int n = model.tensors().size();
    if (model.inputs().length == 0) {
      problems.add(Problem.invalid("model has no inputs"));
    }
    if (model.outputs().length == 0) {
      problems.add(Problem.invalid("model has no outputs"));
    }
    boolean[] available = new boolean[n];
    boolean[] isInput = new boolean[n];
    for (int t : model.inputs()) {
      if (isInput[t]) {
        problems.add(Problem.invalid("model input " + tensorLabel(model, t) + " is listed twice"));
      }
      available[t] = true;
      isInput[t] = true;
      if (model.tensors().get(t).isConstant()) {
        problems.add(Problem.invalid("model input " + tensorLabel(model, t) + " is a constant"));
      }
    }
    for (int t = 0; t < n; t++) {
      if (model.tensors().get(t).isConstant()) {
        available[t] = true;
      }
    }
    int[] producer = new int[n];
    Arrays.fill(producer, -1);
    for (int i = 0; i < model.operators().size(); i++) {
      TfliteOperator op = model.operators().get(i);
      String label = operatorLabel(op, i);
      OpResolver.Registration registration = op.op() == null ? null : ops.find(op.op());
      if (registration == null) {
        problems.add(Problem.unsupported(label + ": not supported by SparkQuant (builtin code " + op.builtinCode()
            + ")"));
      } else {
        checkOptions(op, registration, label, problems);
        if (op.version() > registration.maxVersion()) {
          problems.add(Problem.unsupported(label + ": version " + op.version() + " is above "
              + registration.maxVersion() + ", the highest registered"));
        } else if (op.version() < registration.minVersion()) {
          problems.add(Problem.invalid(label + ": version " + op.version() + " is below "
              + registration.minVersion() + ", the lowest registered"));
        }
      }
      for (int k = 0; k < op.inputs().length; k++) {
        int t = op.inputs()[k];
        if (t >= 0 && !available[t]) {
          problems.add(Problem.invalid(label + ": input " + k + " " + tensorLabel(model, t)
              + " is neither a model input, a constant, nor produced by an earlier operator"));
        }
      }
      for (int t : op.outputs()) {
        if (model.tensors().get(t).isConstant() || isInput[t]) {
          problems.add(Problem.invalid(label + ": writes " + tensorLabel(model, t)
              + ", which is a constant or model input"));
        } else if (producer[t] >= 0) {
          problems.add(Problem.invalid(label + ": writes " + tensorLabel(model, t) + ", already written by operator "
              + producer[t]));
        }
        producer[t] = i;
        available[t] = true;
      }
    }
    for (int t : model.outputs()) {
      if (!available[t]) {
        problems.add(Problem.invalid("model output " + tensorLabel(model, t) + " is never produced"));
      }
    }
    for (int t = 0; t < n; t++) {
      checkQuantization(model, t, problems);
    }
    return problems;
  }

  private static void checkOptions(TfliteOperator op, OpResolver.Registration registration, String label,
      List<Problem> problems) {
    Class<? extends OperatorOptions> expected = registration.optionsType();
    OperatorOptions options = op.options();
    if (expected == null && options != null) {
      problems.add(Problem.invalid(label + ": takes no builtin options, has " + options.getClass().getSimpleName()));
    } else if (expected != null && options == null && registration.optionsRequired()) {
      problems.add(Problem.invalid(label + ": missing " + expected.getSimpleName() + " options"));
    } else if (expected != null && options != null && !expected.isInstance(options)) {
      problems.add(Problem.invalid(label + ": has " + options.getClass().getSimpleName() + " options, expected "
          + expected.getSimpleName()));
    }
  }

  private static void checkQuantization(TfliteModel model, int t, List<Problem> problems) {
    TfliteTensor tensor = model.tensors().get(t);
    TfliteQuantization q = tensor.quantization();
    if (q == null) {
      return;
    }
    String label = tensorLabel(model, t);
    long zpMin;
    long zpMax;
    switch (tensor.type()) {
      case INT8 -> { zpMin = -128; zpMax = 127; }
      case UINT8 -> { zpMin = 0; zpMax = 255; }
      case INT16 -> { zpMin = 0; zpMax = 0; } // TFLite's int16 activations are symmetric.
      case INT32, INT64 -> { zpMin = 0; zpMax = 0; } // Biases: zero point 0.
      default -> {
        return; // Float tensors may carry (ignored) min/max style parameters.
      }
    }
    for (int c = 0; c < q.scale().length; c++) {
      float s = q.scale()[c];
      if (!(s > 0) || Float.isInfinite(s)) {
        problems.add(Problem.invalid(label + ": scale[" + c + "] = " + s + ", must be positive and finite"));
      }
      long zp = q.zeroPoint()[c];
      if (zp < zpMin || zp > zpMax) {
        problems.add(Problem.invalid(label + ": zero point[" + c + "] = " + zp + " outside " + zpMin + ".." + zpMax
            + " for " + tensor.type()));
      }
    }
  }

  /** "operator 3 (CONV_2D)": how every message names an operator. */
  public static String operatorLabel(TfliteOperator op, int index) {
    return "operator " + index + " (" + op.opName() + ")";
  }

  /** "tensor 5 'dense/bias'": how every message names a tensor. */
  public static String tensorLabel(TfliteModel model, int t) {
    String name = t >= 0 && t < model.tensors().size() ? model.tensors().get(t).name() : null;
    return "tensor " + t + (name == null ? "" : " '" + name + "'");
  }
}
