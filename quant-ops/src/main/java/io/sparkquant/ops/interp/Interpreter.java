package io.sparkquant.ops.interp;

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

  /**
   * Checks {@code model} ({@link ModelCheck#verify} against {@link BuiltinOpResolver}: dataflow, options,
   * versions, quantization), then prepares every operator; throws IllegalArgumentException naming the
   * problems or the first operator whose prepare refuses it.
   */
  public Interpreter(TfliteModel model) {
    List<String> problems = ModelCheck.verify(model, BuiltinOpResolver.INSTANCE);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("the model cannot run: " + String.join("; ", problems) + "; supported: "
          + SUPPORTED);
    }
    this.model = model;
    int n = model.tensors().size();
    this.constants = new Object[n];
    for (int i = 0; i < n; i++) {
      TfliteTensor t = model.tensor(i);
      if (t.isConstant()) {
        constants[i] = decode(t);
      }
    }
    List<PreparedOp> ops = new ArrayList<>();
    for (int i = 0; i < model.operators().size(); i++) {
      TfliteOperator op = model.operators().get(i);
      PreparedOp p;
      try {
        // verify() accepted the op, so it is registered
        p = BuiltinOpResolver.INSTANCE.find(op.op()).prepare().apply(new OpContext(model, constants, op));
      } catch (IllegalArgumentException | UnsupportedOperationException | ArithmeticException e) {
        throw new IllegalArgumentException("operator #" + i + " " + op.opName() + " (inputs "
            + describe(op.inputs()) + ", outputs " + describe(op.outputs()) + "): " + e.getMessage()
            + "; supported: " + SUPPORTED, e);
      }
      if (p instanceof PreparedOp.Folded f) {
        constants[op.outputs()[0]] = f.value;
      } else {
        ops.add(p);
      }
    }
    this.prepared = List.copyOf(ops);
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
    TensorValue[] all = runAll(inputs);
    TensorValue[] out = new TensorValue[model.outputs().length];
    for (int i = 0; i < out.length; i++) {
      out[i] = all[model.outputs()[i]];
    }
    return out;
  }

  /**
   * Runs and returns every tensor's value by tensor index (inputs, constants, intermediates, outputs;
   * null for tensors no operator touches), for per-layer error reports. Names: {@link #tensorIndex}.
   */
  public TensorValue[] runAll(TensorValue... inputs) {
    int[] inputIdx = model.inputs();
    if (inputs.length != inputIdx.length) {
      throw new IllegalArgumentException("model has " + inputIdx.length + " inputs, got " + inputs.length);
    }
    int n = model.tensors().size();
    Object[] values = constants.clone();
    int[][] shapes = new int[n][];
    for (int i = 0; i < n; i++) {
      if (constants[i] != null) {
        shapes[i] = model.tensor(i).shape();
      }
    }
    for (int k = 0; k < inputs.length; k++) {
      TfliteTensor t = model.tensor(inputIdx[k]);
      TensorValue in = inputs[k];
      if (in.type() != t.type()) {
        throw new IllegalArgumentException("input " + k + " '" + t.name() + "' must be " + t.type() + ", got "
            + in.type());
      }
      int[] shape = in.shape();
      int[] declared = t.shape();
      boolean ok = shape.length == declared.length;
      for (int d = 1; ok && d < shape.length; d++) {
        ok = shape[d] == declared[d];
      }
      if (!ok) {
        throw new IllegalArgumentException("input " + k + " '" + t.name() + "' must have shape [batch"
            + tail(declared) + "] (declared " + Arrays.toString(declared) + "), got " + Arrays.toString(shape));
      }
      values[inputIdx[k]] = in.data();
      shapes[inputIdx[k]] = shape;
    }
    for (PreparedOp op : prepared) {
      op.eval(values, shapes);
    }
    TensorValue[] all = new TensorValue[n];
    for (int i = 0; i < n; i++) {
      if (values[i] != null) {
        // constants (and RESHAPEs of them) are shared by every run: hand out copies
        Object v = isShared(values[i]) ? copy(values[i]) : values[i];
        all[i] = new TensorValue(model.tensor(i).type(), shapes[i], v);
      }
    }
    return all;
  }

  private boolean isShared(Object value) {
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
