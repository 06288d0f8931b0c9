package io.sparkquant.ops.interp;

import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.ModelCheck;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A pure-Java interpreter for TFLite models built from SparkQuant's op set, bit-exact with the TFLite
 * 2.6.2 runtime on integer kernels (see {@link #SUPPORTED}). Like TFLite's interpreter it is a loop over
 * prepared operators: {@link BuiltinOpResolver} registers each op with its prepare (one {@code XxxOp} class
 * per op), and every operator is prepared once at construction (multipliers, lookup tables, decoded
 * constants); a model outside the op set, or an unsupported type combination, fails here with the
 * operator's index and name.
 *
 * <p><b>Thread safety:</b> an instance is immutable after construction and every {@code run} allocates
 * its own tensor buffers, so one instance may be shared by any number of threads (e.g. one per executor
 * JVM, deserialized once from a broadcast).
 *
 * <p>The leading dimension of every input is the batch: a model declared with batch 1 runs any batch
 * size, each input's leading dimension being taken from the input itself (so a broadcast operand declared
 * with leading dimension 1 may stay at 1).
 */
public final class Interpreter {

  /** The operators and type combinations this interpreter runs, from {@link BuiltinOpResolver}'s registrations. */
  public static final String SUPPORTED = BuiltinOpResolver.INSTANCE.describe();

  private final TfliteModel model;
  private final List<PreparedOp> prepared;
  /** Decoded constants (and constant-folded DEQUANTIZE outputs) by tensor index; null for activations. */
  private final Object[] constants;
  /** The constants' shapes by tensor index (null for activations); ops never write shapes they did not produce. */
  private final int[][] constantShapes;
  private final long activationBytes;

  /**
   * Checks {@code model} ({@link ModelCheck#requireRunnable} against {@link BuiltinOpResolver}: structure,
   * dataflow, options, versions, quantization), prepares every operator, and plans every tensor's shape from the
   * declared input shapes through each operator's shape check (TFLite's Prepare-time ResizeTensor), so a model whose
   * shapes, operands or parameters do not fit is refused here, before it runs. Throws {@link InvalidModelException}
   * naming the tensor or the operator (index and op).
   */
  public Interpreter(TfliteModel model) {
    this.model = model;
    Plan plan;
    try {
      plan = plan(model);
    } catch (InvalidModelException e) {
      if (e.kind() == InvalidModelException.Kind.UNSUPPORTED) {
        throw new InvalidModelException(e.kind(), e.getMessage() + "; supported: " + SUPPORTED, e);
      }
      throw e;
    }
    this.constants = plan.constants();
    this.constantShapes = new int[constants.length][];
    for (int i = 0; i < constants.length; i++) {
      if (constants[i] != null) {
        constantShapes[i] = model.tensor(i).shape();
      }
    }
    this.prepared = plan.ops();
    this.activationBytes = plan.activationBytes();
  }

  /** What construction computes once: decoded constants, prepared ops, {@link #activationBytes}. */
  private record Plan(Object[] constants, List<PreparedOp> ops, long activationBytes) {}

  /** Checks, decodes the constants, prepares every op and plans the shapes. */
  private static Plan plan(TfliteModel model) {
    ModelCheck.requireRunnable(model, BuiltinOpResolver.INSTANCE);
    int n = model.tensors().size();
    Object[] constants = new Object[n];
    // tensors sharing one buffer and type share one decoded array
    java.util.Map<io.sparkquant.ops.tflite.TensorType, java.util.IdentityHashMap<byte[], Object>> decoded =
        new java.util.EnumMap<>(io.sparkquant.ops.tflite.TensorType.class);
    int[][] shapes = new int[n][];
    for (int i = 0; i < n; i++) {
      TfliteTensor t = model.tensor(i);
      if (t.isConstant()) {
        constants[i] = decoded.computeIfAbsent(t.type(), type -> new java.util.IdentityHashMap<>())
            .computeIfAbsent(t.data(), d -> decode(t));
        shapes[i] = t.shape();
      }
    }
    for (int i : model.inputs()) {
      shapes[i] = model.tensor(i).shape();
      checkPlanned(shapes[i], ModelCheck.tensorLabel(model, i) + " (model input)");
    }
    List<PreparedOp> ops = new ArrayList<>();
    long bytes = 0;
    for (int i = 0; i < model.operators().size(); i++) {
      TfliteOperator op = model.operators().get(i);
      String label = ModelCheck.operatorLabel(op, i);
      PreparedOp p;
      int out;
      try {
        // requireRunnable() accepted the op, so it is registered
        p = BuiltinOpResolver.INSTANCE.find(op.op()).prepare().apply(new OpContext(model, constants, op));
        out = op.outputs()[0];
        shapes[out] = p.outputShape(shapes);
      } catch (InvalidModelException e) {
        throw e.at(label);
      } catch (IllegalArgumentException e) { // a kernel's own parameter check (multipliers, lookup tables)
        throw new InvalidModelException(label + ": " + e.getMessage(), e);
      } catch (UnsupportedOperationException e) {
        throw new InvalidModelException(InvalidModelException.Kind.UNSUPPORTED, label + ": " + e.getMessage(), e);
      }
      checkPlanned(shapes[out], label + " output " + ModelCheck.tensorLabel(model, out));
      if (p instanceof PreparedOp.Folded f) {
        // later ops read the folded tensor's declared shape (a filter's): it must be the data's
        if (!Arrays.equals(model.tensor(out).shape(), shapes[out])) {
          throw new InvalidModelException(label + ": output " + ModelCheck.tensorLabel(model, out)
              + " declares shape " + Arrays.toString(model.tensor(out).shape()) + ", its constant input has "
              + Arrays.toString(shapes[out]));
        }
        constants[out] = f.value;
      } else {
        ops.add(p);
        bytes += (long) PreparedOp.elements(shapes[out]) * model.tensor(out).type().elementBytes();
      }
    }
    return new Plan(constants, List.copyOf(ops), bytes);
  }

  /** A planned shape must be non-empty: no kernel here runs zero-size tensors (TFLite's mostly skip them). */
  private static void checkPlanned(int[] shape, String what) {
    for (int d : shape) {
      if (d <= 0) {
        throw new InvalidModelException(what + " has shape " + Arrays.toString(shape)
            + ", expected every dimension >= 1");
      }
    }
  }

  /**
   * The bytes one run at the declared input shapes allocates for operator outputs (TFLite's arena_used_bytes,
   * without reuse): a caller can refuse a model that would not fit its memory before running it.
   */
  public long activationBytes() {
    return activationBytes;
  }

  public TfliteModel model() {
    return model;
  }

  public int inputCount() {
    return model.inputs().length;
  }

  public int outputCount() {
    return model.outputs().length;
  }

  public TfliteTensor inputTensor(int i) {
    return model.tensor(model.inputs()[i]);
  }

  public TfliteTensor outputTensor(int i) {
    return model.tensor(model.outputs()[i]);
  }

  /** The index of the tensor with this name; throws naming the available names if absent. */
  public int tensorIndex(String name) {
    return model.tensorIndex(name);
  }

  /**
   * Runs on flat row-major inputs ({@code float[]}, {@code byte[]}, {@code short[]}, {@code int[]} per
   * the input tensor's type, as TfliteRuntime takes them), batch = length / per-sample size. Returns
   * one flat array per model output, in the output tensor's type.
   */
  public Object[] run(Object... inputs) {
    TensorValue[] out = run(toTensors(inputs));
    Object[] flat = new Object[out.length];
    for (int i = 0; i < out.length; i++) {
      flat[i] = out[i].data();
    }
    return flat;
  }

  /** Runs on typed inputs (shape checked against the model's, except the leading batch dimension). */
  public TensorValue[] run(TensorValue... inputs) {
    int[][] shapes = new int[model.tensors().size()][];
    Object[] values = execute(inputs, shapes);
    TensorValue[] out = new TensorValue[model.outputs().length];
    for (int i = 0; i < out.length; i++) {
      int t = model.outputs()[i];
      // outputs belong to the caller: an output that is a constant (or a RESHAPE of one) is handed out as a copy
      Object v = isConstant(values[t]) ? copy(values[t]) : values[t];
      out[i] = new TensorValue(model.tensor(t).type(), shapes[t], v);
    }
    return out;
  }

  /**
   * Runs and returns every tensor's value by tensor index (inputs, constants, intermediates, outputs;
   * null for tensors no operator touches), for per-layer error reports. Names: {@link #tensorIndex}.
   * Constant tensors (and RESHAPEs of them) are the interpreter's own arrays, shared by every run and thread,
   * not copies: read them, never write them.
   */
  public TensorValue[] runAll(TensorValue... inputs) {
    int n = model.tensors().size();
    int[][] shapes = new int[n][];
    Object[] values = execute(inputs, shapes);
    TensorValue[] all = new TensorValue[n];
    for (int i = 0; i < n; i++) {
      if (values[i] != null) {
        all[i] = new TensorValue(model.tensor(i).type(), shapes[i], values[i]);
      }
    }
    return all;
  }

  /** Checks the inputs and runs every operator; returns every tensor's array and fills {@code shapes}. */
  private Object[] execute(TensorValue[] inputs, int[][] shapes) {
    int[] inputIdx = model.inputs();
    if (inputs.length != inputIdx.length) {
      throw new IllegalArgumentException("model has " + inputIdx.length + " inputs, got " + inputs.length);
    }
    Object[] values = constants.clone();
    System.arraycopy(constantShapes, 0, shapes, 0, constantShapes.length);
    for (int k = 0; k < inputs.length; k++) {
      TfliteTensor t = model.tensor(inputIdx[k]);
      TensorValue in = inputs[k];
      if (in.type() != t.type()) {
        throw new IllegalArgumentException("input " + k + " '" + t.name() + "' must be " + t.type() + ", got "
            + in.type());
      }
      int[] shape = in.shape();
      int[] declared = t.shape();
      boolean ok = shape.length == declared.length && shape.length > 0 && shape[0] >= 1;
      for (int d = 1; ok && d < shape.length; d++) {
        ok = shape[d] == declared[d];
      }
      if (!ok) {
        throw new IllegalArgumentException("input " + k + " '" + t.name() + "' must have shape [batch >= 1"
            + tail(declared) + "] (declared " + Arrays.toString(declared) + "), got " + Arrays.toString(shape));
      }
      values[inputIdx[k]] = in.data();
      shapes[inputIdx[k]] = shape;
    }
    for (PreparedOp op : prepared) {
      try {
        op.eval(values, shapes);
      } catch (InvalidModelException e) { // shapes that fit the declared batch but not this one
        throw e.at(op.name);
      }
    }
    return values;
  }

  private boolean isConstant(Object value) {
    for (Object c : constants) {
      if (c == value) {
        return true;
      }
    }
    return false;
  }

  private static Object copy(Object array) {
    int n = java.lang.reflect.Array.getLength(array);
    Object c = java.lang.reflect.Array.newInstance(array.getClass().getComponentType(), n);
    System.arraycopy(array, 0, c, 0, n);
    return c;
  }

  private TensorValue[] toTensors(Object[] inputs) {
    int[] inputIdx = model.inputs();
    if (inputs.length != inputIdx.length) {
      throw new IllegalArgumentException("model has " + inputIdx.length + " inputs, got " + inputs.length);
    }
    TensorValue[] tensors = new TensorValue[inputs.length];
    for (int k = 0; k < inputs.length; k++) {
      TfliteTensor t = model.tensor(inputIdx[k]);
      Class<?> expected = TensorValue.arrayClass(t.type());
      if (inputs[k] == null || inputs[k].getClass() != expected) {
        throw new IllegalArgumentException("input " + k + " '" + t.name() + "' is " + t.type() + " and needs a "
            + expected.getSimpleName() + ", got " + (inputs[k] == null ? "null" : inputs[k].getClass().getSimpleName()));
      }
      int[] declared = t.shape();
      int perSample = 1;
      for (int d = 1; d < declared.length; d++) {
        perSample *= declared[d];
      }
      int length = java.lang.reflect.Array.getLength(inputs[k]);
      if (declared.length == 0 || perSample == 0 || length % perSample != 0 || length == 0) {
        throw new IllegalArgumentException("input " + k + " '" + t.name() + "' has shape [batch" + tail(declared)
            + "], so its length must be a positive multiple of " + perSample + ", got " + length);
      }
      int[] shape = declared.clone();
      shape[0] = length / perSample;
      tensors[k] = new TensorValue(t.type(), shape, inputs[k]);
    }
    return tensors;
  }

  private static String tail(int[] shape) {
    StringBuilder sb = new StringBuilder();
    for (int d = 1; d < shape.length; d++) {
      sb.append(", ").append(shape[d]);
    }
    return sb.toString();
  }

  private String describe(int[] idx) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < idx.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      if (idx[i] < 0) {
        sb.append("-");
      } else {
        TfliteTensor t = model.tensor(idx[i]);
        sb.append(idx[i]).append(" '").append(t.name()).append("' ").append(t.type());
      }
    }
    return sb.append("]").toString();
  }

  /** Little-endian constant bytes to the tensor type's primitive array (ModelCheck checked their length). */
  private static Object decode(TfliteTensor t) {
    ByteBuffer bb = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
    int n = t.elementCount();
    return switch (t.type()) {
      case FLOAT32 -> {
        float[] a = new float[n];
        bb.asFloatBuffer().get(a);
        yield a;
      }
      case INT8, UINT8, BOOL -> t.data().clone();
      case INT16, FLOAT16 -> {
        short[] a = new short[n];
        bb.asShortBuffer().get(a);
        yield a;
      }
      case INT32 -> {
        int[] a = new int[n];
        bb.asIntBuffer().get(a);
        yield a;
      }
      case INT64 -> {
        long[] a = new long[n];
        bb.asLongBuffer().get(a);
        yield a;
      }
    };
  }
}
