package io.sparkquant.ops.interp;

import io.sparkquant.ops.kernels.Add;
import io.sparkquant.ops.kernels.AveragePool;
import io.sparkquant.ops.kernels.Conv;
import io.sparkquant.ops.kernels.ConvGeometry;
import io.sparkquant.ops.kernels.DepthwiseConv;
import io.sparkquant.ops.kernels.Dequantize;
import io.sparkquant.ops.kernels.FullyConnected;
import io.sparkquant.ops.kernels.KernelUtil;
import io.sparkquant.ops.kernels.Logistic;
import io.sparkquant.ops.kernels.MaxPool;
import io.sparkquant.ops.kernels.Mean;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.kernels.Quantize;
import io.sparkquant.ops.kernels.Reshape;
import io.sparkquant.ops.kernels.Softmax;
import io.sparkquant.ops.kernels.Tanh;
import io.sparkquant.ops.numerics.FixedPoint;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A pure-Java interpreter for TFLite models built from SparkQuant's op set, bit-exact with the TFLite
 * 2.6.2 runtime on integer kernels (see {@link #SUPPORTED}). Every operator is prepared once at
 * construction (multipliers, lookup tables, decoded constants); a model outside the op set, or an
 * unsupported type combination, fails here with the operator's index and name.
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

  /** The operators and type combinations this interpreter runs. */
  public static final String SUPPORTED = "FULLY_CONNECTED (int8, int16x8, float32, hybrid int8-weight), "
      + "CONV_2D (int8 per-channel, int16x8, float32, hybrid), DEPTHWISE_CONV_2D (int8 per-channel, int16x8, "
      + "float32, hybrid), MAX_POOL_2D and AVERAGE_POOL_2D (int8, int16, float32), MEAN (int8, int16, float32), ADD (int8, "
      + "int16 with non-power-of-two scales, float32), RESHAPE (any type), SOFTMAX (int8, int16, float32), LOGISTIC "
      + "and TANH (int8, int16 with non-power-of-two input scales, float32), QUANTIZE (float32 to int8/int16, "
      + "int8/int16 to int8/int16), DEQUANTIZE "
      + "(int8, int16, float16 to float32)";

  private final TfliteModel model;
  private final List<Node> nodes;
  /** Decoded constants (and constant-folded DEQUANTIZE outputs) by tensor index; null for activations. */
  private final Object[] constants;

  /** Prepares every operator of {@code model}; throws IllegalArgumentException naming the first bad one. */
  public Interpreter(TfliteModel model) {
    this.model = model;
    int n = model.tensors().size();
    this.constants = new Object[n];
    for (int i = 0; i < n; i++) {
      TfliteTensor t = model.tensor(i);
      if (t.isConstant()) {
        constants[i] = decode(t);
      }
    }
    List<Node> prepared = new ArrayList<>();
    for (int i = 0; i < model.operators().size(); i++) {
      TfliteOperator op = model.operators().get(i);
      Node node;
      try {
        node = prepare(op);
      } catch (IllegalArgumentException | UnsupportedOperationException | ArithmeticException e) {
        throw new IllegalArgumentException("operator #" + i + " " + op.opName() + " (inputs "
            + describe(op.inputs()) + ", outputs " + describe(op.outputs()) + "): " + e.getMessage()
            + "; supported: " + SUPPORTED, e);
      }
      if (node instanceof ConstantNode c) { // DEQUANTIZE of a constant (float16 weights): fold once
        constants[op.outputs()[0]] = c.value;
        continue;
      }
      prepared.add(node);
    }
    this.nodes = List.copyOf(prepared);
    checkOrder();
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
    for (Node node : nodes) {
      node.eval(values, shapes);
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

  private void checkOrder() {
    boolean[] ready = new boolean[model.tensors().size()];
    for (int i = 0; i < ready.length; i++) {
      ready[i] = constants[i] != null;
    }
    for (int i : model.inputs()) {
      ready[i] = true;
    }
    for (Node node : nodes) {
      for (int i : node.inputs) {
        if (i >= 0 && !ready[i]) {
          throw new IllegalArgumentException("operator " + node.name + " reads tensor " + i + " '"
              + model.tensor(i).name() + "' before any operator writes it; operators must be in execution order");
        }
      }
      for (int o : node.outputs) {
        ready[o] = true;
      }
    }
    for (int o : model.outputs()) {
      if (!ready[o]) {
        throw new IllegalArgumentException("model output tensor " + o + " '" + model.tensor(o).name()
            + "' is never written");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Preparation

  /** One prepared operator; immutable. */
  /** CONV_2D and DEPTHWISE_CONV_2D: the output shape follows from the input's and the filter window. */
  private abstract static class WindowNode extends Node {
    private final TensorType outputType;
    private final int[] filterShape;
    private final int outDepth;
    private final Padding padding;
    private final int strideH;
    private final int strideW;
    private final int dilationH;
    private final int dilationW;

    WindowNode(TfliteOperator op, TensorType outputType, int[] filterShape, int outDepth,
        Padding padding, int strideH, int strideW, int dilationH, int dilationW) {
      super(op);
      this.outputType = outputType;
      this.filterShape = filterShape;
      this.outDepth = outDepth;
      this.padding = padding;
      this.strideH = strideH;
      this.strideW = strideW;
      this.dilationH = dilationH;
      this.dilationW = dilationW;
    }

    @Override
    void eval(Object[] values, int[][] shapes) {
      ConvGeometry g = ConvGeometry.of(shapes[inputs[0]], filterShape[1], filterShape[2], outDepth, padding, strideH,
          strideW, dilationH, dilationW);
      int[] outShape = g.outputShape();
      Object outData = TensorValue.allocate(outputType, elements(outShape));
      compute(g, values[inputs[0]], outData);
      values[outputs[0]] = outData;
      shapes[outputs[0]] = outShape;
    }

    abstract void compute(ConvGeometry g, Object in, Object out);
  }

  private abstract static class Node {
    final String name;
    final int[] inputs;
    final int[] outputs;

    Node(TfliteOperator op) {
      this.name = op.opName();
      this.inputs = op.inputs();
      this.outputs = op.outputs();
    }

    abstract void eval(Object[] values, int[][] shapes);

    int elements(int[] shape) {
      int n = 1;
      for (int d : shape) {
        n *= d;
      }
      return n;
    }
  }

  /** Marker for an operator folded at prepare time. */
  private static final class ConstantNode extends Node {
    final Object value;

    ConstantNode(TfliteOperator op, Object value) {
      super(op);
      this.value = value;
    }

    @Override
    void eval(Object[] values, int[][] shapes) {
      throw new IllegalStateException("folded");
    }
  }

  private Node prepare(TfliteOperator op) {
    if (op.op() == null) {
      throw new UnsupportedOperationException("operator " + op.opName() + " (code " + op.builtinCode()
          + ") is not in the supported op set");
    }
    return switch (op.op()) {
      case FULLY_CONNECTED -> prepareFullyConnected(op);
      case CONV_2D -> prepareConv(op);
      case DEPTHWISE_CONV_2D -> prepareDepthwise(op);
      case MAX_POOL_2D, AVERAGE_POOL_2D -> preparePool(op);
      case MEAN -> prepareMean(op);
      case ADD -> prepareAdd(op);
      case RESHAPE -> prepareReshape(op);
      case SOFTMAX -> prepareSoftmax(op);
      case LOGISTIC, TANH -> prepareLookupActivation(op);
      case QUANTIZE -> prepareQuantize(op);
      case DEQUANTIZE -> prepareDequantize(op);
      default -> throw new UnsupportedOperationException("operator " + op.opName() + " is not in the supported op set");
    };
  }

  private TfliteTensor in(TfliteOperator op, int k) {
    if (k >= op.inputs().length || op.inputs()[k] < 0) {
      throw new IllegalArgumentException("missing input " + k);
    }
    return model.tensor(op.inputs()[k]);
  }

  private TfliteTensor optionalIn(TfliteOperator op, int k) {
    return k < op.inputs().length && op.inputs()[k] >= 0 ? model.tensor(op.inputs()[k]) : null;
  }

  private TfliteTensor out(TfliteOperator op) {
    if (op.outputs().length != 1) {
      throw new IllegalArgumentException("expected 1 output, got " + op.outputs().length);
    }
    return model.tensor(op.outputs()[0]);
  }

  private static <T> T options(TfliteOperator op, Class<T> type) {
    if (!type.isInstance(op.options())) {
      throw new IllegalArgumentException("expected " + type.getSimpleName() + " options, got " + op.options());
    }
    return type.cast(op.options());
  }

  private static float scale(TfliteTensor t) {
    TfliteQuantization q = requireQuantization(t);
    return q.scale()[0];
  }

  private static int zeroPoint(TfliteTensor t) {
    TfliteQuantization q = requireQuantization(t);
    return (int) q.zeroPoint()[0];
  }

  private static TfliteQuantization requireQuantization(TfliteTensor t) {
    if (t.quantization() == null) {
      throw new IllegalArgumentException("tensor '" + t.name() + "' of type " + t.type()
          + " has no quantization parameters");
    }
    return t.quantization();
  }

  private static void requireZeroPoint0(TfliteTensor t) {
    if (zeroPoint(t) != 0) {
      throw new IllegalArgumentException("int16 tensor '" + t.name() + "' must have zero point 0, got "
          + zeroPoint(t));
    }
  }

  private static IllegalArgumentException typeError(String what) {
    return new IllegalArgumentException("unsupported type combination " + what);
  }

  private static String types(TfliteTensor... ts) {
    StringBuilder sb = new StringBuilder();
    for (TfliteTensor t : ts) {
      sb.append(sb.length() == 0 ? "" : ", ").append(t == null ? "none" : t.type());
    }
    return sb.toString();
  }

  private Object constant(TfliteTensor t, TfliteOperator op, int k) {
    Object c = constants[op.inputs()[k]];
    if (c == null) {
      throw new IllegalArgumentException("input " + k + " '" + t.name() + "' must be a constant");
    }
    return c;
  }

  private Object optionalConstant(TfliteOperator op, int k) {
    if (k >= op.inputs().length || op.inputs()[k] < 0) {
      return null;
    }
    Object c = constants[op.inputs()[k]];
    if (c == null) {
      throw new IllegalArgumentException("input " + k + " must be a constant");
    }
    return c;
  }

  private static final int INT8_MIN = Byte.MIN_VALUE;
  private static final int INT8_MAX = Byte.MAX_VALUE;
  private static final int INT16_MIN = Short.MIN_VALUE;
  private static final int INT16_MAX = Short.MAX_VALUE;

  // --- FULLY_CONNECTED

  private Node prepareFullyConnected(TfliteOperator op) {
    OperatorOptions.FullyConnectedParams o = options(op, OperatorOptions.FullyConnectedParams.class);
    TfliteTensor input = in(op, 0);
    TfliteTensor filter = in(op, 1);
    TfliteTensor bias = optionalIn(op, 2);
    TfliteTensor output = out(op);
    if (filter.shape().length != 2) {
      throw new IllegalArgumentException("filter must be 2-D [units, depth], got " + Arrays.toString(filter.shape()));
    }
    final int units = filter.shape()[0];
    final int depth = filter.shape()[1];
    Object filterData = constant(filter, op, 1);
    Object biasData = optionalConstant(op, 2);
    final boolean keepNumDims = o.keepNumDims();
    final String combo = types(input, filter, bias, output);
    if (filter.type() == TensorType.INT8 && filter.quantization() != null && filter.quantization().isPerChannel()) {
      throw new IllegalArgumentException("per-channel FULLY_CONNECTED filters are not accepted by TFLite 2.6.2");
    }
    abstract class FcNode extends Node {
      FcNode() {
        super(op);
      }

      @Override
      void eval(Object[] values, int[][] shapes) {
        int[] inShape = shapes[inputs[0]];
        int total = elements(inShape);
        if (total % depth != 0) {
          throw new IllegalArgumentException(name + ": input " + Arrays.toString(inShape) + " is not a multiple of "
              + depth);
        }
        int batches = total / depth;
        int[] outShape;
        if (keepNumDims) {
          outShape = inShape.clone();
          outShape[outShape.length - 1] = units;
        } else {
          outShape = new int[] {batches, units};
        }
        Object outData = TensorValue.allocate(output.type(), batches * units);
        compute(batches, values[inputs[0]], outData);
        values[outputs[0]] = outData;
        shapes[outputs[0]] = outShape;
      }

      abstract void compute(int batches, Object in, Object out);
    }
    if (input.type() == TensorType.INT8 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT8
        && (bias == null || bias.type() == TensorType.INT32)) {
      FullyConnected.QuantizedParams p = FullyConnected.prepare(scale(input), zeroPoint(input), scale(filter),
          zeroPoint(filter), scale(output), zeroPoint(output), o.fusedActivation(), INT8_MIN, INT8_MAX);
      return new FcNode() {
        @Override
        void compute(int batches, Object in, Object out) {
          FullyConnected.evalInt8(p, batches, depth, units, (byte[]) in, (byte[]) filterData, (int[]) biasData,
              (byte[]) out);
        }
      };
    }
    if (input.type() == TensorType.INT16 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT16
        && (bias == null || bias.type() == TensorType.INT64)) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
      FullyConnected.QuantizedParams p = FullyConnected.prepare(scale(input), 0, scale(filter), zeroPoint(filter),
          scale(output), 0, o.fusedActivation(), INT16_MIN, INT16_MAX);
      return new FcNode() {
        @Override
        void compute(int batches, Object in, Object out) {
          FullyConnected.evalInt16(p, batches, depth, units, (short[]) in, (byte[]) filterData, (long[]) biasData,
              (short[]) out);
        }
      };
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32
        && (bias == null || bias.type() == TensorType.FLOAT32)) {
      KernelUtil.FloatRange act = KernelUtil.activationRangeFloat(o.fusedActivation());
      if (filter.type() == TensorType.FLOAT32) {
        return new FcNode() {
          @Override
          void compute(int batches, Object in, Object out) {
            FullyConnected.evalFloat(act, batches, depth, units, (float[]) in, (float[]) filterData,
                (float[]) biasData, (float[]) out);
          }
        };
      }
      if (filter.type() == TensorType.INT8) {
        final float filterScale = scale(filter);
        final boolean asymmetric = o.asymmetricQuantizeInputs();
        return new FcNode() {
          @Override
          void compute(int batches, Object in, Object out) {
            FullyConnected.evalHybrid(act, batches, depth, units, (float[]) in, (byte[]) filterData, filterScale,
                (float[]) biasData, (float[]) out, asymmetric);
          }
        };
      }
    }
    throw typeError("(input, filter, bias, output) = (" + combo + ")");
  }

  // --- CONV_2D and DEPTHWISE_CONV_2D

  private Node prepareConv(TfliteOperator op) {
    OperatorOptions.ConvParams o = options(op, OperatorOptions.ConvParams.class);
    TfliteTensor input = in(op, 0);
    TfliteTensor filter = in(op, 1);
    TfliteTensor bias = optionalIn(op, 2);
    TfliteTensor output = out(op);
    int[] fs = filter.shape();
    if (fs.length != 4) {
      throw new IllegalArgumentException("filter must be 4-D OHWI, got " + Arrays.toString(fs));
    }
    if (input.shape().length != 4 || input.shape()[3] != fs[3]) {
      throw new IllegalArgumentException("input " + Arrays.toString(input.shape()) + " must be NHWC with "
          + fs[3] + " channels (filter " + Arrays.toString(fs) + ")");
    }
    final int outDepth = fs[0];
    if (bias == null) {
      throw new IllegalArgumentException("TFLite 2.6.2's CONV_2D requires a bias input (conv.cc: has_bias)");
    }
    Object filterData = constant(filter, op, 1);
    Object biasData = optionalConstant(op, 2);
    final String combo = types(input, filter, bias, output);
    if (input.type() == TensorType.INT8 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT8
        && (bias == null || bias.type() == TensorType.INT32)) {
      Conv.QuantizedParams p = Conv.prepare(scale(input), zeroPoint(input), requireQuantization(filter).scale(),
          scale(output), zeroPoint(output), o.fusedActivation(), outDepth, INT8_MIN, INT8_MAX);
      return new WindowNode(op, output.type(), fs, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
        @Override
        void compute(ConvGeometry g, Object in, Object out) {
          Conv.evalInt8(p, g, (byte[]) in, (byte[]) filterData, (int[]) biasData, (byte[]) out);
        }
      };
    }
    if (input.type() == TensorType.INT16 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT16
        && (bias == null || bias.type() == TensorType.INT64)) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
      Conv.QuantizedParams p = Conv.prepare(scale(input), 0, requireQuantization(filter).scale(), scale(output), 0,
          o.fusedActivation(), outDepth, INT16_MIN, INT16_MAX);
      return new WindowNode(op, output.type(), fs, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
        @Override
        void compute(ConvGeometry g, Object in, Object out) {
          Conv.evalInt16(p, g, (short[]) in, (byte[]) filterData, (long[]) biasData, (short[]) out);
        }
      };
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32
        && (bias == null || bias.type() == TensorType.FLOAT32)) {
      KernelUtil.FloatRange act = KernelUtil.activationRangeFloat(o.fusedActivation());
      if (filter.type() == TensorType.FLOAT32) {
        return new WindowNode(op, output.type(), fs, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
          @Override
          void compute(ConvGeometry g, Object in, Object out) {
            Conv.evalFloat(act, g, (float[]) in, (float[]) filterData, (float[]) biasData, (float[]) out);
          }
        };
      }
      if (filter.type() == TensorType.INT8) {
        final float[] filterScales = requireQuantization(filter).scale();
        // conv.cc: per-channel hybrid (asymmetric inputs) only when the channel scales actually differ
        boolean perChannel = false;
        for (float s : filterScales) {
          perChannel |= s != filterScales[0];
        }
        final boolean asymmetric = perChannel;
        if (!perChannel && filterScales.length > 1) {
          // measured: TFLite 2.6.2 then takes its per-tensor hybrid path with the tensor's legacy scale, which
          // is 0 for a multi-entry quantization, and returns only the activated bias; refuse instead
          throw new IllegalArgumentException("hybrid CONV_2D filter has " + filterScales.length
              + " equal channel scales, which TFLite 2.6.2 computes as zero; write a single scale for a "
              + "per-tensor filter");
        }
        return new WindowNode(op, output.type(), fs, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
          @Override
          void compute(ConvGeometry g, Object in, Object out) {
            Conv.evalHybrid(act, g, (float[]) in, (byte[]) filterData, filterScales, (float[]) biasData,
                (float[]) out, asymmetric);
          }
        };
      }
    }
    throw typeError("(input, filter, bias, output) = (" + combo + ")");
  }

  private Node prepareDepthwise(TfliteOperator op) {
    OperatorOptions.DepthwiseConvParams o = options(op, OperatorOptions.DepthwiseConvParams.class);
    TfliteTensor input = in(op, 0);
    TfliteTensor filter = in(op, 1);
    TfliteTensor bias = optionalIn(op, 2);
    TfliteTensor output = out(op);
    int[] fs = filter.shape();
    if (fs.length != 4 || fs[0] != 1) {
      throw new IllegalArgumentException("filter must be 4-D [1, H, W, C], got " + Arrays.toString(fs));
    }
    final int outDepth = fs[3];
    if (input.shape().length != 4 || outDepth % input.shape()[3] != 0) {
      throw new IllegalArgumentException("input " + Arrays.toString(input.shape())
          + " must be NHWC with a channel count dividing the filter's " + outDepth);
    }
    final int depthMultiplier = outDepth / input.shape()[3];
    if (o.depthMultiplier() != 0 && o.depthMultiplier() != depthMultiplier) {
      throw new IllegalArgumentException("depth multiplier option " + o.depthMultiplier()
          + " disagrees with filter channels / input channels = " + depthMultiplier);
    }
    Object filterData = constant(filter, op, 1);
    Object biasData = optionalConstant(op, 2);
    final String combo = types(input, filter, bias, output);
    if (input.type() == TensorType.INT8 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT8
        && (bias == null || bias.type() == TensorType.INT32)) {
      DepthwiseConv.QuantizedParams p = DepthwiseConv.prepare(scale(input), zeroPoint(input),
          requireQuantization(filter).scale(), scale(output), zeroPoint(output), o.fusedActivation(), outDepth,
          depthMultiplier, INT8_MIN, INT8_MAX);
      return new WindowNode(op, output.type(), fs, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
        @Override
        void compute(ConvGeometry g, Object in, Object out) {
          DepthwiseConv.evalInt8(p, g, (byte[]) in, (byte[]) filterData, (int[]) biasData, (byte[]) out);
        }
      };
    }
    if (input.type() == TensorType.INT16 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT16
        && (bias == null || bias.type() == TensorType.INT64)) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
      DepthwiseConv.QuantizedParams p = DepthwiseConv.prepare(scale(input), 0, requireQuantization(filter).scale(),
          scale(output), 0, o.fusedActivation(), outDepth, depthMultiplier, INT16_MIN, INT16_MAX);
      return new WindowNode(op, output.type(), fs, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
        @Override
        void compute(ConvGeometry g, Object in, Object out) {
          DepthwiseConv.evalInt16(p, g, (short[]) in, (byte[]) filterData, (long[]) biasData, (short[]) out);
        }
      };
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32
        && (bias == null || bias.type() == TensorType.FLOAT32)) {
      KernelUtil.FloatRange act = KernelUtil.activationRangeFloat(o.fusedActivation());
      if (filter.type() == TensorType.FLOAT32) {
        return new WindowNode(op, output.type(), fs, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
          @Override
          void compute(ConvGeometry g, Object in, Object out) {
            DepthwiseConv.evalFloat(act, depthMultiplier, g, (float[]) in, (float[]) filterData,
                (float[]) biasData, (float[]) out);
          }
        };
      }
      if (filter.type() == TensorType.INT8) {
        final float[] filterScales = requireQuantization(filter).scale();
        return new WindowNode(op, output.type(), fs, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
          @Override
          void compute(ConvGeometry g, Object in, Object out) {
            DepthwiseConv.evalHybrid(act, depthMultiplier, g, (float[]) in, (byte[]) filterData, filterScales,
                (float[]) biasData, (float[]) out);
          }
        };
      }
    }
    throw typeError("(input, filter, bias, output) = (" + combo + ")");
  }

  // --- pools, MEAN

  private Node preparePool(TfliteOperator op) {
    OperatorOptions.PoolParams o = options(op, OperatorOptions.PoolParams.class);
    TfliteTensor input = in(op, 0);
    TfliteTensor output = out(op);
    final boolean max = op.op() == io.sparkquant.ops.tflite.BuiltinOp.MAX_POOL_2D;
    if (input.type() != output.type()) {
      throw typeError("(input, output) = (" + types(input, output) + ")");
    }
    final TensorType type = input.type();
    final KernelUtil.QuantizedRange range;
    final KernelUtil.FloatRange floatRange;
    switch (type) {
      case INT8 -> {
        range = KernelUtil.activationRangeQuantized(o.fusedActivation(), scale(output), zeroPoint(output), INT8_MIN,
            INT8_MAX);
        floatRange = null;
      }
      case INT16 -> {
        range = KernelUtil.activationRangeQuantized(o.fusedActivation(), scale(output), zeroPoint(output), INT16_MIN,
            INT16_MAX);
        floatRange = null;
      }
      case FLOAT32 -> {
        range = null;
        floatRange = KernelUtil.activationRangeFloat(o.fusedActivation());
      }
      default -> throw typeError("(input, output) = (" + types(input, output) + ")");
    }
    return new Node(op) {
      @Override
      void eval(Object[] values, int[][] shapes) {
        int[] inShape = shapes[inputs[0]];
        ConvGeometry g = ConvGeometry.of(inShape, o.filterHeight(), o.filterWidth(), inShape[3], o.padding(),
            o.strideH(), o.strideW(), 1, 1);
        int[] outShape = g.outputShape();
        Object outData = TensorValue.allocate(type, elements(outShape));
        Object inData = values[inputs[0]];
        switch (type) {
          case INT8 -> {
            if (max) {
              MaxPool.evalInt8(g, range.min(), range.max(), (byte[]) inData, (byte[]) outData);
            } else {
              AveragePool.evalInt8(g, range.min(), range.max(), (byte[]) inData, (byte[]) outData);
            }
          }
          case INT16 -> {
            if (max) {
              MaxPool.evalInt16(g, range.min(), range.max(), (short[]) inData, (short[]) outData);
            } else {
              AveragePool.evalInt16(g, range.min(), range.max(), (short[]) inData, (short[]) outData);
            }
          }
          default -> {
            if (max) {
              MaxPool.evalFloat(g, floatRange, (float[]) inData, (float[]) outData);
            } else {
              AveragePool.evalFloat(g, floatRange, (float[]) inData, (float[]) outData);
            }
          }
        }
        values[outputs[0]] = outData;
        shapes[outputs[0]] = outShape;
      }
    };
  }

  private Node prepareMean(TfliteOperator op) {
    OperatorOptions.ReducerParams o = options(op, OperatorOptions.ReducerParams.class);
    TfliteTensor input = in(op, 0);
    TfliteTensor axis = in(op, 1);
    TfliteTensor output = out(op);
    if (axis.type() != TensorType.INT32) {
      throw typeError("axis must be INT32, got " + axis.type());
    }
    final int[] axes = (int[]) constant(axis, op, 1);
    final TensorType type = input.type();
    if (type != output.type() || (type != TensorType.INT8 && type != TensorType.INT16 && type != TensorType.FLOAT32)) {
      throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16 or FLOAT32");
    }
    final boolean quantized = type != TensorType.FLOAT32;
    if (type == TensorType.INT16) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
    }
    final float inScale = quantized ? scale(input) : 0f;
    final int inZp = quantized ? zeroPoint(input) : 0;
    final float outScale = quantized ? scale(output) : 0f;
    final int outZp = quantized ? zeroPoint(output) : 0;
    final FixedPoint.QuantizedMultiplier multiplier = quantized ? Mean.prepareMultiplier(inScale, outScale) : null;
    return new Node(op) {
      @Override
      void eval(Object[] values, int[][] shapes) {
        Mean.Reduction r = new Mean.Reduction(shapes[inputs[0]], axes, o.keepDims());
        int[] outShape = r.outputShape();
        Object outData = TensorValue.allocate(type, elements(outShape));
        switch (type) {
          case INT8 -> Mean.evalInt8(r, (byte[]) values[inputs[0]], inScale, inZp, (byte[]) outData, outScale, outZp,
              multiplier);
          case INT16 -> Mean.evalInt16(r, (short[]) values[inputs[0]], inScale, (short[]) outData, outScale,
              multiplier);
          default -> Mean.evalFloat(r, (float[]) values[inputs[0]], (float[]) outData);
        }
        values[outputs[0]] = outData;
        shapes[outputs[0]] = outShape;
      }
    };
  }

  // --- ADD

  private Node prepareAdd(TfliteOperator op) {
    OperatorOptions.AddParams o = options(op, OperatorOptions.AddParams.class);
    TfliteTensor a = in(op, 0);
    TfliteTensor b = in(op, 1);
    TfliteTensor output = out(op);
    if (a.type() != b.type() || a.type() != output.type()) {
      throw typeError("(input1, input2, output) = (" + types(a, b, output) + ")");
    }
    final TensorType type = a.type();
    final Add.QuantizedParams p;
    final KernelUtil.FloatRange floatRange;
    switch (type) {
      case INT8 -> {
        p = Add.prepare(scale(a), zeroPoint(a), scale(b), zeroPoint(b), scale(output), zeroPoint(output),
            o.fusedActivation(), 20, INT8_MIN, INT8_MAX);
        floatRange = null;
      }
      case INT16 -> {
        requireZeroPoint0(a);
        requireZeroPoint0(b);
        requireZeroPoint0(output);
        if (isPowerOfTwo(scale(a)) && isPowerOfTwo(scale(b)) && isPowerOfTwo(scale(output))) {
          throw new IllegalArgumentException("int16 ADD with power-of-two scales takes TFLite's saturating-shift "
              + "path, which this interpreter does not implement; use non-power-of-two scales");
        }
        p = Add.prepare(scale(a), 0, scale(b), 0, scale(output), 0, o.fusedActivation(), 15, INT16_MIN, INT16_MAX);
        floatRange = null;
      }
      case FLOAT32 -> {
        p = null;
        floatRange = KernelUtil.activationRangeFloat(o.fusedActivation());
      }
      default -> throw typeError("(input1, input2, output) = (" + types(a, b, output) + ")");
    }
    return new Node(op) {
      @Override
      void eval(Object[] values, int[][] shapes) {
        int[] s1 = shapes[inputs[0]];
        int[] s2 = shapes[inputs[1]];
        int[] outShape = Add.broadcastShape(s1, s2);
        Object outData = TensorValue.allocate(type, elements(outShape));
        switch (type) {
          case INT8 -> Add.evalInt8(p, s1, (byte[]) values[inputs[0]], s2, (byte[]) values[inputs[1]], outShape,
              (byte[]) outData);
          case INT16 -> Add.evalInt16(p, s1, (short[]) values[inputs[0]], s2, (short[]) values[inputs[1]], outShape,
              (short[]) outData);
          default -> Add.evalFloat(floatRange, s1, (float[]) values[inputs[0]], s2, (float[]) values[inputs[1]],
              outShape, (float[]) outData);
        }
        values[outputs[0]] = outData;
        shapes[outputs[0]] = outShape;
      }
    };
  }

  /** CheckedLog2: the scale is a power of two (within TFLite's 1e-3 tolerance on log2). */
  private static boolean isPowerOfTwo(float scale) {
    double log2 = Math.log(scale) / Math.log(2);
    return Math.abs(log2 - Math.rint(log2)) < 1e-3;
  }

  // --- RESHAPE

  private Node prepareReshape(TfliteOperator op) {
    TfliteTensor input = in(op, 0);
    TfliteTensor output = out(op);
    if (input.type() != output.type()) {
      throw typeError("(input, output) = (" + types(input, output) + ")");
    }
    int[] newShape = null;
    TfliteTensor shapeTensor = optionalIn(op, 1);
    if (shapeTensor != null && constants[op.inputs()[1]] instanceof int[] s && shapeTensor.shape().length == 1) {
      newShape = s;
    } else if (op.options() instanceof OperatorOptions.ReshapeParams r && r.newShape() != null) {
      newShape = r.newShape();
    } else if (shapeTensor == null) {
      newShape = output.shape();
    }
    if (newShape == null) {
      throw new IllegalArgumentException("the new shape must come from a constant INT32 shape tensor or the options");
    }
    final int[] target = newShape;
    return new Node(op) {
      @Override
      void eval(Object[] values, int[][] shapes) {
        int n = elements(shapes[inputs[0]]);
        values[outputs[0]] = values[inputs[0]]; // values are never mutated after they are written: share
        shapes[outputs[0]] = Reshape.resolveShape(target, n);
      }
    };
  }

  // --- SOFTMAX, LOGISTIC, TANH

  private Node prepareSoftmax(TfliteOperator op) {
    OperatorOptions.SoftmaxParams o = options(op, OperatorOptions.SoftmaxParams.class);
    TfliteTensor input = in(op, 0);
    TfliteTensor output = out(op);
    if (input.type() == TensorType.INT8 && output.type() == TensorType.INT8) {
      if (scale(output) != 1f / 256 || zeroPoint(output) != -128) {
        throw new IllegalArgumentException("int8 SOFTMAX output must have scale 1/256 and zero point -128, got "
            + scale(output) + " and " + zeroPoint(output));
      }
      Softmax.LutParams p = Softmax.prepareInt8(scale(input), o.beta(), scale(output), zeroPoint(output));
      return new Node(op) {
        @Override
        void eval(Object[] values, int[][] shapes) {
          int[] s = shapes[inputs[0]];
          int depth = s[s.length - 1];
          byte[] out = new byte[elements(s)];
          Softmax.evalInt8(p, out.length / depth, depth, (byte[]) values[inputs[0]], out);
          values[outputs[0]] = out;
          shapes[outputs[0]] = s;
        }
      };
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32) {
      final float beta = o.beta();
      return new Node(op) {
        @Override
        void eval(Object[] values, int[][] shapes) {
          int[] s = shapes[inputs[0]];
          int depth = s[s.length - 1];
          float[] out = new float[elements(s)];
          Softmax.evalFloat(beta, out.length / depth, depth, (float[]) values[inputs[0]], out);
          values[outputs[0]] = out;
          shapes[outputs[0]] = s;
        }
      };
    }
    if (input.type() == TensorType.INT16 && output.type() == TensorType.INT16) {
      requireZeroPoint0(output);
      Softmax.Int16Params p = Softmax.prepareInt16(scale(input), o.beta());
      return new Node(op) {
        @Override
        void eval(Object[] values, int[][] shapes) {
          int[] s = shapes[inputs[0]];
          int depth = s[s.length - 1];
          short[] out = new short[elements(s)];
          Softmax.evalInt16(p, out.length / depth, depth, (short[]) values[inputs[0]], out);
          values[outputs[0]] = out;
          shapes[outputs[0]] = s;
        }
      };
    }
    throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8 -> INT8, INT16 -> INT16, "
        + "FLOAT32");
  }

  private Node prepareLookupActivation(TfliteOperator op) {
    TfliteTensor input = in(op, 0);
    TfliteTensor output = out(op);
    final boolean logistic = op.op() == io.sparkquant.ops.tflite.BuiltinOp.LOGISTIC;
    if (input.type() == TensorType.INT8 && output.type() == TensorType.INT8) {
      final byte[] table = logistic
          ? Logistic.prepareInt8(scale(input), zeroPoint(input), scale(output), zeroPoint(output))
          : Tanh.prepareInt8(scale(input), zeroPoint(input), scale(output), zeroPoint(output));
      return new Node(op) {
        @Override
        void eval(Object[] values, int[][] shapes) {
          byte[] in = (byte[]) values[inputs[0]];
          byte[] out = new byte[in.length];
          Logistic.evalLookupTable(table, in, out);
          values[outputs[0]] = out;
          shapes[outputs[0]] = shapes[inputs[0]];
        }
      };
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32) {
      return new Node(op) {
        @Override
        void eval(Object[] values, int[][] shapes) {
          float[] in = (float[]) values[inputs[0]];
          float[] out = new float[in.length];
          if (logistic) {
            Logistic.evalFloat(in, out);
          } else {
            Tanh.evalFloat(in, out);
          }
          values[outputs[0]] = out;
          shapes[outputs[0]] = shapes[inputs[0]];
        }
      };
    }
    if (input.type() == TensorType.INT16 && output.type() == TensorType.INT16) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
      final Logistic.Int16Params p = logistic ? Logistic.prepareInt16(scale(input), scale(output), false)
          : Tanh.prepareInt16(scale(input), scale(output));
      return new Node(op) {
        @Override
        void eval(Object[] values, int[][] shapes) {
          short[] in = (short[]) values[inputs[0]];
          short[] out = new short[in.length];
          if (logistic) {
            Logistic.evalInt16(p, in, out);
          } else {
            Tanh.evalInt16(p, in, out);
          }
          values[outputs[0]] = out;
          shapes[outputs[0]] = shapes[inputs[0]];
        }
      };
    }
    throw typeError("(input, output) = (" + types(input, output) + "); supported: INT8, INT16, FLOAT32");
  }

  // --- QUANTIZE, DEQUANTIZE

  /**
   * Float QUANTIZE divides by the scale in double (optimized_ops::AffineQuantize), not in float as
   * reference_ops does: ElementwiseOpsVsTfliteTest feeds values next to rounding ties to tell them apart.
   */
  static final boolean QUANTIZE_DIVIDES_IN_DOUBLE = true;

  private Node prepareQuantize(TfliteOperator op) {
    TfliteTensor input = in(op, 0);
    TfliteTensor output = out(op);
    final TensorType outType = output.type();
    final int qmin;
    final int qmax;
    switch (outType) {
      case INT8 -> {
        qmin = INT8_MIN;
        qmax = INT8_MAX;
      }
      case INT16 -> {
        qmin = INT16_MIN;
        qmax = INT16_MAX;
      }
      default -> throw typeError("(input, output) = (" + types(input, output) + "); output must be INT8 or INT16");
    }
    final float outScale = scale(output);
    final int outZp = zeroPoint(output);
    if (input.type() == TensorType.FLOAT32) {
      final boolean doubleDivision = QUANTIZE_DIVIDES_IN_DOUBLE;
      return new Node(op) {
        @Override
        void eval(Object[] values, int[][] shapes) {
          float[] in = (float[]) values[inputs[0]];
          Object out = TensorValue.allocate(outType, in.length);
          Quantize.affineQuantize(in, outScale, outZp, qmin, qmax, doubleDivision, out);
          values[outputs[0]] = out;
          shapes[outputs[0]] = shapes[inputs[0]];
        }
      };
    }
    if (input.type() == TensorType.INT8 || input.type() == TensorType.INT16) {
      final FixedPoint.QuantizedMultiplier m = Quantize.prepareRequantize(scale(input), outScale);
      final int inZp = zeroPoint(input);
      final boolean int8In = input.type() == TensorType.INT8;
      return new Node(op) {
        @Override
        void eval(Object[] values, int[][] shapes) {
          Object inData = values[inputs[0]];
          int n = java.lang.reflect.Array.getLength(inData);
          int[] widened = new int[n];
          for (int i = 0; i < n; i++) {
            widened[i] = int8In ? ((byte[]) inData)[i] : ((short[]) inData)[i];
          }
          Object out = TensorValue.allocate(outType, n);
          Quantize.requantize(widened, inZp, m, outZp, qmin, qmax, out);
          values[outputs[0]] = out;
          shapes[outputs[0]] = shapes[inputs[0]];
        }
      };
    }
    throw typeError("(input, output) = (" + types(input, output) + ")");
  }

  private Node prepareDequantize(TfliteOperator op) {
    TfliteTensor input = in(op, 0);
    TfliteTensor output = out(op);
    if (output.type() != TensorType.FLOAT32) {
      throw typeError("(input, output) = (" + types(input, output) + "); output must be FLOAT32");
    }
    final TensorType inType = input.type();
    final float s = inType == TensorType.FLOAT16 ? 0f : scale(input);
    final int zp = inType == TensorType.FLOAT16 ? 0 : zeroPoint(input);
    if (inType != TensorType.INT8 && inType != TensorType.INT16 && inType != TensorType.FLOAT16) {
      throw typeError("(input, output) = (" + types(input, output) + "); input must be INT8, INT16 or FLOAT16");
    }
    Node node = new Node(op) {
      @Override
      void eval(Object[] values, int[][] shapes) {
        values[outputs[0]] = dequantize(values[inputs[0]]);
        shapes[outputs[0]] = shapes[inputs[0]];
      }

      private float[] dequantize(Object in) {
        float[] out = new float[java.lang.reflect.Array.getLength(in)];
        switch (inType) {
          case INT8 -> Dequantize.dequantizeInt8((byte[]) in, s, zp, out);
          case INT16 -> Dequantize.dequantizeInt16((short[]) in, s, zp, out);
          default -> Dequantize.dequantizeFloat16((short[]) in, out);
        }
        return out;
      }
    };
    Object c = constants[op.inputs()[0]];
    if (c != null) {
      Object[] values = new Object[model.tensors().size()];
      int[][] shapes = new int[values.length][];
      values[op.inputs()[0]] = c;
      shapes[op.inputs()[0]] = input.shape();
      node.eval(values, shapes);
      return new ConstantNode(op, values[op.outputs()[0]]);
    }
    return node;
  }

  // ---------------------------------------------------------------------------------------------

  /** Little-endian constant bytes to the tensor type's primitive array. */
  static Object decode(TfliteTensor t) {
    ByteBuffer bb = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
    int n = t.elementCount();
    long expectedBytes = (long) n * t.type().elementBytes();
    if (t.data().length != expectedBytes) {
      throw new IllegalArgumentException("constant tensor '" + t.name() + "' " + t.type() + " "
          + Arrays.toString(t.shape()) + " needs " + expectedBytes + " bytes, buffer has " + t.data().length);
    }
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
