package io.sparkquant.ops.export;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.graph.ConstTensor;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.GraphTensor;
import io.sparkquant.ops.graph.Node;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.numerics.FixedPoint;
import io.sparkquant.ops.numerics.QuantParams;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Exports a {@link Graph} to an in-memory {@link TfliteModel} in one of the {@link ExportMode}s (QUANT-SPEC.md):
 * <ul>
 *   <li>FLOAT32: the reference export;</li>
 *   <li>FLOAT16: weights and biases stored as FLOAT16, each followed by a DEQUANTIZE to float32 (as TFLite's
 *       converter does); the arithmetic is float32;</li>
 *   <li>DYNAMIC_RANGE: int8 symmetric weights (per-channel for CONV_2D / DEPTHWISE_CONV_2D, per-tensor for
 *       FULLY_CONNECTED), float biases and activations: the runtime's hybrid kernels. Unlike the converter, every
 *       weight tensor is quantized, whatever its size;</li>
 *   <li>INT8: int8 activations (per-tensor asymmetric, from {@link ActivationRanges}), int8 weights, int32 biases;
 *       float I/O through QUANTIZE/DEQUANTIZE, or int8 I/O. SOFTMAX stays an int8 op (output 1/256, -128) run by the
 *       runtime's integer kernel. Conv/depthwise weights are per output channel, or with
 *       {@link ExportOptions#perTensorWeights()} one symmetric scale per tensor (scale max|W| / 127, zero point 0);
 *       the converter gives both the same op versions (CONV_2D 3, DEPTHWISE_CONV_2D 3);</li>
 *   <li>INT16X8: int16 symmetric activations, int8 weights, int64 biases, float I/O. ADD is written without
 *       AddOptions.pot_scale_int16 (the model types cannot express it), so it reads as true; TFLite 2.6.2's ADD then
 *       still takes the general-scale int16 path unless all three scales are powers of two, in which case its
 *       power-of-two path is exact for our zero points of 0. Measured on the residual test model.</li>
 * </ul>
 * Pools, RESHAPE, PAD, RESIZE_NEAREST_NEIGHBOR and global max pooling keep their input's scale and zero point
 * (PAD fills with that zero point, a real 0); CONCATENATION takes the union of its inputs' representable ranges
 * (the inputs' parameters unchanged when they all agree; int16: the largest input scale) and each input whose
 * parameters differ is requantized by a QUANTIZE to {@code <input>/requantized/<node>} first, since TFLite 2.6.2's
 * int8 kernel does not rescale (and its int16 kernel copies values as they are); SOFTMAX/LOGISTIC output
 * (1/256, -128) and TANH (1/128, 0) in int8, (1/32768, 0) in int16. Global max pooling is written as a
 * MAX_POOL_2D over the whole plane (plus RESHAPE when dimensions collapse); global average as MEAN over axes 1, 2.
 * Tensor names are the graph's; with float I/O the float input/output tensors are named {@code <name>_float}.
 * In INT8/INT16X8, {@link ExportOptions#floatNodes()} are computed in float: DEQUANTIZE of each input to
 * {@code <input>/dequantized}, the float op with float weights writing {@code <output>/float}, and QUANTIZE back to
 * {@code <output>} with its calibrated parameters.
 */
public final class TfliteExporter {

  /** Metadata key of the provenance JSON. */
  public static final String PROVENANCE_METADATA = "sparkquant";
  /** Metadata key TFLite's converter writes: a 16-byte, zero-padded version string. */
  public static final String MIN_RUNTIME_METADATA = "min_runtime_version";

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Name suffix of a kept-float node's float output (its integer output keeps the graph name). */
  public static final String FLOAT_SUFFIX = "/float";
  /** Name suffix of the float copy of an integer tensor that a kept-float node reads. */
  public static final String DEQUANTIZED_SUFFIX = "/dequantized";

  private TfliteExporter() {}

  public static TfliteModel export(Graph graph, ExportOptions options) {
    return new Exporter(graph, options).run();
  }

  /**
   * The tensors whose ranges INT8 / INT16X8 export reads: the input and every op output whose parameters are not
   * fixed by the op (pools, reshape, global max keep the input's; softmax/logistic/tanh are fixed).
   */
  public static List<String> tensorsNeedingRanges(Graph graph) {
    List<String> names = new ArrayList<>();
    names.add(graph.input().name());
    for (Node n : graph.nodes()) {
      if (!inheritsInputParams(n) && !hasFixedOutputParams(n) && !(n instanceof Node.Concatenation)) {
        names.add(n.output());
      }
    }
    return names;
  }

  /**
   * The range whose {@link QuantParams#int8Activation} gives an int8 CONCATENATION's output parameters when its
   * inputs' parameters differ (when they all agree, the output keeps them): the union of the inputs' representable
   * ranges {@code [dequantize(-128), dequantize(127)]}.
   */
  public static float[] int8ConcatenationRange(List<QuantParams> inputs) {
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (QuantParams p : inputs) {
      min = Math.min(min, p.dequantize(-128));
      max = Math.max(max, p.dequantize(127));
    }
    return new float[] {min, max};
  }

  /** The min_runtime_version string a model carries ("" if absent). */
  public static String minRuntimeVersion(TfliteModel model) {
    byte[] b = model.metadata().get(MIN_RUNTIME_METADATA);
    if (b == null) {
      return "";
    }
    int n = 0;
    while (n < b.length && b[n] != 0) {
      n++;
    }
    return new String(b, 0, n, StandardCharsets.US_ASCII);
  }

  /**
   * Whether {@code n}'s output keeps its (first) input's parameters: pools, RESHAPE, PAD, RESIZE_NEAREST_NEIGHBOR,
   * global max pooling.
   */
  public static boolean inheritsInputParams(Node n) {
    return n instanceof Node.Pool2D || n instanceof Node.Reshape || n instanceof Node.Pad
        || n instanceof Node.ResizeNearest || (n instanceof Node.GlobalPool g && g.kind() == Node.PoolKind.MAX);
  }

  private static boolean hasFixedOutputParams(Node n) {
    return n instanceof Node.Softmax || (n instanceof Node.Activation a
        && (a.kind() == Node.ActivationKind.TANH || a.kind() == Node.ActivationKind.LOGISTIC));
  }

  private static final class Exporter {
    final Graph graph;
    final ExportOptions options;
    final ExportMode mode;
    final List<TfliteTensor> tensors = new ArrayList<>();
    final List<TfliteOperator> prologue = new ArrayList<>();
    final List<TfliteOperator> ops = new ArrayList<>();
    final Map<String, Integer> tensorIndex = new HashMap<>();
    final Map<String, QuantParams> params = new HashMap<>();
    /** The activation type of the node being emitted: FLOAT32 while a kept-float node is emitted. */
    TensorType actType;
    /** True while emitting a node that {@link ExportOptions#floatNodes()} keeps in float inside an integer model. */
    boolean keptFloat;
    /** Float (dequantized) copies of integer tensors read by kept-float nodes, by tensor name. */
    final Map<String, Integer> dequantized = new HashMap<>();

    Exporter(Graph graph, ExportOptions options) {
      this.graph = graph;
      this.options = options;
      this.mode = options.mode();
      this.actType = switch (mode) {
        case INT8 -> TensorType.INT8;
        case INT16X8 -> TensorType.INT16;
        default -> TensorType.FLOAT32;
      };
    }

    boolean integer() {
      return mode == ExportMode.INT8 || mode == ExportMode.INT16X8;
    }

    TfliteModel run() {
      if (integer()) {
        chooseActivationParams();
      }
      for (String name : options.floatNodes()) {
        if (graph.nodes().stream().noneMatch(n -> n.name().equals(name))) {
          throw new IllegalArgumentException("float node '" + name + "' is not a node of graph '" + graph.name()
              + "'; nodes: " + graph.nodes().stream().map(Node::name).toList());
        }
      }
      GraphTensor in = graph.input();
      int modelInput;
      int graphIn = addActivation(in.name(), in.shape());
      if (integer() && options.io() == ExportOptions.IoType.FLOAT) {
        modelInput = addTensor(in.name() + "_float", TensorType.FLOAT32, in.shape(), null, null);
        ops.add(op(BuiltinOp.QUANTIZE, TensorType.FLOAT32, null, actType, new int[] {modelInput},
            new int[] {graphIn}, null));
      } else {
        modelInput = graphIn;
      }
      for (Node n : graph.nodes()) {
        emit(n);
      }
      GraphTensor out = graph.output();
      int graphOut = tensorIndex.get(out.name());
      int modelOutput = graphOut;
      if (integer() && options.io() == ExportOptions.IoType.FLOAT) {
        modelOutput = addTensor(out.name() + "_float", TensorType.FLOAT32, out.shape(), null, null);
        ops.add(op(BuiltinOp.DEQUANTIZE, actType, null, TensorType.FLOAT32, new int[] {graphOut},
            new int[] {modelOutput}, null));
      }
      List<TfliteOperator> all = new ArrayList<>(prologue);
      all.addAll(ops);
      Map<String, byte[]> metadata = new LinkedHashMap<>();
      metadata.put(MIN_RUNTIME_METADATA, minRuntimeBytes(all));
      metadata.put(PROVENANCE_METADATA, provenance(all));
      return new TfliteModel("SparkQuant " + options.projectVersion() + " (" + mode.cliName() + ")", tensors, all,
          new int[] {modelInput}, new int[] {modelOutput}, metadata);
    }

    // ---- activation parameters ----

    void chooseActivationParams() {
      ActivationRanges ranges = options.ranges();
      List<String> missing = new ArrayList<>();
      for (String name : tensorsNeedingRanges(graph)) {
        if (ranges.get(name).isEmpty()) {
          missing.add(name);
        }
      }
      if (!missing.isEmpty()) {
        throw new IllegalArgumentException("activation ranges are missing for tensors " + missing
            + "; mode " + mode.cliName() + " needs ranges for " + tensorsNeedingRanges(graph));
      }
      params.put(graph.input().name(), fromRange(ranges.get(graph.input().name()).orElseThrow()));
      for (Node n : graph.nodes()) {
        QuantParams p;
        if (inheritsInputParams(n)) {
          p = params.get(n.inputs().get(0));
        } else if (n instanceof Node.Concatenation c) {
          p = concatenationParams(c);
        } else if (hasFixedOutputParams(n)) {
          boolean tanh = n instanceof Node.Activation a && a.kind() == Node.ActivationKind.TANH;
          if (mode == ExportMode.INT16X8) {
            p = new QuantParams(1f / 32768f, 0);
          } else {
            p = tanh ? new QuantParams(1f / 128f, 0) : new QuantParams(1f / 256f, -128);
          }
        } else {
          p = fromRange(ranges.get(n.output()).orElseThrow());
        }
        params.put(n.output(), p);
      }
    }

    /**
     * The output parameters of a concatenation: the inputs' own when they all agree (no requantization), else int8
     * parameters for the union of the inputs' representable ranges, or for int16 (symmetric) the largest scale.
     */
    QuantParams concatenationParams(Node.Concatenation c) {
      List<QuantParams> in = c.inputs().stream().map(params::get).toList();
      if (in.stream().distinct().count() == 1) {
        return in.get(0);
      }
      if (mode == ExportMode.INT16X8) {
        float scale = 0f;
        for (QuantParams p : in) {
          scale = Math.max(scale, p.scale());
        }
        return new QuantParams(scale, 0);
      }
      float[] union = int8ConcatenationRange(in);
      return QuantParams.int8Activation(union[0], union[1]);
    }

    QuantParams fromRange(float[] r) {
      return mode == ExportMode.INT16X8 ? QuantParams.int16Activation(r[0], r[1])
          : QuantParams.int8Activation(r[0], r[1]);
    }

    // ---- tensors ----

    int addTensor(String name, TensorType type, int[] shape, byte[] data, TfliteQuantization q) {
      tensors.add(new TfliteTensor(name, type, shape, data, q));
      return tensors.size() - 1;
    }

    int addActivation(String name, int[] shape) {
      TfliteQuantization q = null;
      if (integer() && !keptFloat) {
        QuantParams p = params.get(name);
        q = TfliteQuantization.perTensor(p.scale(), p.zeroPoint());
      }
      int idx = addTensor(keptFloat ? name + FLOAT_SUFFIX : name, actType, shape, null, q);
      tensorIndex.put(name, idx);
      return idx;
    }

    /** A float constant in FLOAT32, or FLOAT16 plus a DEQUANTIZE in float16 mode. */
    int addFloatConst(String name, ConstTensor t) {
      if (mode == ExportMode.FLOAT16) {
        ByteBuffer bb = le(t.data().length * 2);
        for (float v : t.data()) {
          bb.putShort(Float16.fromFloat(v));
        }
        int half = addTensor(name + "_fp16", TensorType.FLOAT16, t.shape(), bb.array(), null);
        int full = addTensor(name, TensorType.FLOAT32, t.shape(), null, null);
        prologue.add(op(BuiltinOp.DEQUANTIZE, TensorType.FLOAT16, null, TensorType.FLOAT32, new int[] {half},
            new int[] {full}, null));
        return full;
      }
      ByteBuffer bb = le(t.data().length * 4);
      for (float v : t.data()) {
        bb.putFloat(v);
      }
      return addTensor(name, TensorType.FLOAT32, t.shape(), bb.array(), null);
    }

    /** Symmetric int8 weights, per channel along {@code axis} or per tensor ({@code axis < 0}); returns scales. */
    float[] weightScales(ConstTensor w, int axis) {
      if (axis < 0) {
        return new float[] {QuantParams.int8WeightScale(w.absMax())};
      }
      float[] s = new float[w.dim(axis)];
      for (int c = 0; c < s.length; c++) {
        s[c] = QuantParams.int8WeightScale(w.absMaxAlong(axis, c));
      }
      return s;
    }

    int addInt8Weights(String name, ConstTensor w, int axis, float[] scales) {
      int[] shape = w.shape();
      int inner = 1;
      for (int i = axis + 1; axis >= 0 && i < shape.length; i++) {
        inner *= shape[i];
      }
      int n = axis < 0 ? 1 : shape[axis];
      float[] data = w.data();
      byte[] q = new byte[data.length];
      for (int i = 0; i < data.length; i++) {
        int c = axis < 0 ? 0 : (i / inner) % n;
        q[i] = (byte) new QuantParams(scales[c], 0).quantize(data[i], -127, 127); // q = clamp(round(w / s))
      }
      long[] zeros = new long[scales.length];
      return addTensor(name, TensorType.INT8, shape, q,
          new TfliteQuantization(scales.clone(), zeros, Math.max(axis, 0)));
    }

    /** Integer bias: scale inputScale * weightScale[c], zero point 0; int32 (int8 mode) or int64 (16x8). */
    int addIntegerBias(String name, ConstTensor bias, float inputScale, float[] weightScales) {
      int n = bias.data().length;
      float[] scales = new float[n];
      boolean int64 = mode == ExportMode.INT16X8;
      ByteBuffer bb = le(n * (int64 ? 8 : 4));
      for (int c = 0; c < n; c++) {
        scales[c] = (float) ((double) inputScale * weightScales[weightScales.length == 1 ? 0 : c]);
        long q = FixedPoint.roundHalfAwayFromZero(bias.data()[c] / (double) scales[c]);
        if (int64) {
          bb.putLong(q);
        } else {
          bb.putInt((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, q)));
        }
      }
      float[] qScales = weightScales.length == 1 ? new float[] {scales[0]} : scales;
      return addTensor(name, int64 ? TensorType.INT64 : TensorType.INT32, bias.shape(), bb.array(),
          new TfliteQuantization(qScales, new long[qScales.length], 0));
    }

    int addInt32Const(String name, int[] values) {
      return addInt32Const(name, new int[] {values.length}, values);
    }

    int addInt32Const(String name, int[] shape, int[] values) {
      ByteBuffer bb = le(values.length * 4);
      for (int v : values) {
        bb.putInt(v);
      }
      return addTensor(name, TensorType.INT32, shape, bb.array(), null);
    }

    // ---- ops ----

    TfliteOperator op(BuiltinOp op, TensorType in, TensorType weights, TensorType out, int[] inputs, int[] outputs,
        OperatorOptions opts) {
      return op(op, in, weights, out, false, false, inputs, outputs, opts);
    }

    TfliteOperator op(BuiltinOp op, TensorType in, TensorType weights, TensorType out, boolean perChannel,
        boolean dilated, int[] inputs, int[] outputs, OperatorOptions opts) {
      return TfliteOperator.of(op, OpVersions.version(op, in, weights, out, perChannel, dilated), inputs, outputs,
          opts);
    }

    /** Weights and bias for a conv/depthwise/FC node in the current mode; returns {weightIndex, biasIndex, weightType}. */
    int[] weightsAndBias(String nodeName, ConstTensor w, ConstTensor bias, int channelAxis, String inputName) {
      if (options.perTensorWeights()) {
        channelAxis = -1;
      }
      String wName = nodeName + "/weights";
      String bName = nodeName + "/bias";
      if (keptFloat) {
        return new int[] {addFloatConst(wName, w), addFloatConst(bName, bias)};
      }
      switch (mode) {
        case FLOAT32, FLOAT16 -> {
          return new int[] {addFloatConst(wName, w), addFloatConst(bName, bias)};
        }
        case DYNAMIC_RANGE -> {
          float[] s = weightScales(w, channelAxis);
          return new int[] {addInt8Weights(wName, w, channelAxis, s), addFloatConst(bName, bias)};
        }
        default -> {
          float[] s = weightScales(w, channelAxis);
          int wi = addInt8Weights(wName, w, channelAxis, s);
          return new int[] {wi, addIntegerBias(bName, bias, params.get(inputName).scale(), s)};
        }
      }
    }

    /** Whether conv/depthwise weights with this many output channels carry one scale per channel. */
    boolean perChannel(int outputChannels) {
      return outputChannels > 1 && !options.perTensorWeights();
    }

    TensorType weightType() {
      boolean floatWeights = keptFloat || mode == ExportMode.FLOAT32 || mode == ExportMode.FLOAT16;
      return floatWeights ? TensorType.FLOAT32 : TensorType.INT8;
    }

    void emit(Node n) {
      if (integer() && !keptFloat && options.floatNodes().contains(n.name())) {
        emitKeptFloat(n);
        return;
      }
      GraphTensor outT = graph.tensor(n.output());
      if (n instanceof Node.Conv2D c) {
        int[] wb = weightsAndBias(c.name(), c.filter(), c.bias(), 0, c.input());
        int in = tensorIndex.get(c.input());
        int out = addActivation(c.output(), outT.shape());
        ops.add(op(BuiltinOp.CONV_2D, actType, weightType(), actType, perChannel(c.filter().dim(0)), false,
            new int[] {in, wb[0], wb[1]}, new int[] {out},
            new OperatorOptions.ConvParams(c.padding(), c.strideW(), c.strideH(), c.activation(),
                c.dilationW(), c.dilationH())));
      } else if (n instanceof Node.DepthwiseConv2D d) {
        int[] wb = weightsAndBias(d.name(), d.filter(), d.bias(), 3, d.input());
        int in = tensorIndex.get(d.input());
        int out = addActivation(d.output(), outT.shape());
        boolean dilated = d.dilationH() != 1 || d.dilationW() != 1;
        ops.add(op(BuiltinOp.DEPTHWISE_CONV_2D, actType, weightType(), actType, perChannel(d.filter().dim(3)),
            dilated,
            new int[] {in, wb[0], wb[1]}, new int[] {out},
            new OperatorOptions.DepthwiseConvParams(d.padding(), d.strideW(), d.strideH(), d.depthMultiplier(),
                d.activation(), d.dilationW(), d.dilationH())));
      } else if (n instanceof Node.FullyConnected f) {
        int[] wb = weightsAndBias(f.name(), f.weights(), f.bias(), -1, f.input());
        int in = tensorIndex.get(f.input());
        int out = addActivation(f.output(), outT.shape());
        ops.add(op(BuiltinOp.FULLY_CONNECTED, actType, weightType(), actType, new int[] {in, wb[0], wb[1]},
            new int[] {out}, new OperatorOptions.FullyConnectedParams(f.activation(), false, false)));
      } else if (n instanceof Node.Pool2D p) {
        int in = tensorIndex.get(p.input());
        int out = addActivation(p.output(), outT.shape());
        ops.add(op(p.kind() == Node.PoolKind.MAX ? BuiltinOp.MAX_POOL_2D : BuiltinOp.AVERAGE_POOL_2D, actType, null,
            actType, new int[] {in}, new int[] {out}, new OperatorOptions.PoolParams(p.padding(), p.strideW(),
                p.strideH(), p.filterW(), p.filterH(), FusedActivation.NONE)));
      } else if (n instanceof Node.GlobalPool g) {
        emitGlobalPool(g, outT);
      } else if (n instanceof Node.Add a) {
        int l = tensorIndex.get(a.left());
        int r = tensorIndex.get(a.right());
        int out = addActivation(a.output(), outT.shape());
        ops.add(op(BuiltinOp.ADD, actType, null, actType, new int[] {l, r}, new int[] {out},
            new OperatorOptions.AddParams(a.activation())));
      } else if (n instanceof Node.Reshape r) {
        int in = tensorIndex.get(r.input());
        int[] newShape = batchFree(r.newShape());
        int shape = addInt32Const(r.name() + "/shape", newShape);
        int out = addActivation(r.output(), outT.shape());
        ops.add(op(BuiltinOp.RESHAPE, actType, null, actType, new int[] {in, shape}, new int[] {out},
            new OperatorOptions.ReshapeParams(newShape)));
      } else if (n instanceof Node.Softmax s) {
        int in = tensorIndex.get(s.input());
        int out = addActivation(s.output(), outT.shape());
        ops.add(op(BuiltinOp.SOFTMAX, actType, null, actType, new int[] {in}, new int[] {out},
            new OperatorOptions.SoftmaxParams(s.beta())));
      } else if (n instanceof Node.Activation a) {
        BuiltinOp bop = switch (a.kind()) {
          case RELU -> BuiltinOp.RELU;
          case RELU6 -> BuiltinOp.RELU6;
          case TANH -> BuiltinOp.TANH;
          case LOGISTIC -> BuiltinOp.LOGISTIC;
        };
        int in = tensorIndex.get(a.input());
        int out = addActivation(a.output(), outT.shape());
        ops.add(op(bop, actType, null, actType, new int[] {in}, new int[] {out}, null));
      } else if (n instanceof Node.LeakyRelu l) {
        int in = tensorIndex.get(l.input());
        int out = addActivation(l.output(), outT.shape());
        ops.add(op(BuiltinOp.LEAKY_RELU, actType, null, actType, new int[] {in}, new int[] {out},
            new OperatorOptions.LeakyReluParams(l.alpha())));
      } else if (n instanceof Node.Pad p) {
        int in = tensorIndex.get(p.input());
        int paddings = addInt32Const(p.name() + "/paddings", new int[] {4, 2}, new int[] {0, 0, p.top(), p.bottom(),
            p.left(), p.right(), 0, 0});
        int out = addActivation(p.output(), outT.shape());
        ops.add(op(BuiltinOp.PAD, actType, null, actType, new int[] {in, paddings}, new int[] {out}, null));
      } else if (n instanceof Node.ResizeNearest r) {
        int in = tensorIndex.get(r.input());
        int size = addInt32Const(r.name() + "/size", new int[] {outT.dim(1), outT.dim(2)});
        int out = addActivation(r.output(), outT.shape());
        ops.add(op(BuiltinOp.RESIZE_NEAREST_NEIGHBOR, actType, null, actType, new int[] {in, size}, new int[] {out},
            new OperatorOptions.ResizeNearestNeighborParams(false, false)));
      } else if (n instanceof Node.Concatenation c) {
        int[] ins = new int[c.inputs().size()];
        for (int i = 0; i < ins.length; i++) {
          ins[i] = concatenationInput(c, c.inputs().get(i));
        }
        int out = addActivation(c.output(), outT.shape());
        ops.add(op(BuiltinOp.CONCATENATION, actType, null, actType, ins, new int[] {out},
            new OperatorOptions.ConcatenationParams(outT.rank() - 1, FusedActivation.NONE)));
      } else {
        throw new IllegalArgumentException("unknown node type " + n.getClass().getName());
      }
    }

    /** The tensor a concatenation reads for {@code input}: itself, or its requantized copy at the output's params. */
    int concatenationInput(Node.Concatenation c, String input) {
      int idx = tensorIndex.get(input);
      if (!integer() || keptFloat || params.get(input).equals(params.get(c.output()))) {
        return idx;
      }
      QuantParams p = params.get(c.output());
      int copy = addTensor(input + "/requantized/" + c.name(), actType, graph.tensor(input).shape(), null,
          TfliteQuantization.perTensor(p.scale(), p.zeroPoint()));
      ops.add(op(BuiltinOp.QUANTIZE, actType, null, actType, new int[] {idx}, new int[] {copy}, null));
      return copy;
    }

    /**
     * A node kept in float inside an integer model: DEQUANTIZE each integer input (once per tensor), the float op
     * with float weights writing {@code <output>/float}, then QUANTIZE to the integer tensor {@code <output>} with
     * the parameters calibration chose, so the following integer ops read what they would have read.
     */
    void emitKeptFloat(Node n) {
      Map<String, Integer> integerInputs = new HashMap<>();
      for (String in : n.inputs()) {
        int q = tensorIndex.get(in);
        integerInputs.put(in, q);
        int f = dequantized.computeIfAbsent(in, name -> {
          int idx = addTensor(name + DEQUANTIZED_SUFFIX, TensorType.FLOAT32, graph.tensor(name).shape(), null, null);
          ops.add(op(BuiltinOp.DEQUANTIZE, actType, null, TensorType.FLOAT32, new int[] {q}, new int[] {idx}, null));
          return idx;
        });
        tensorIndex.put(in, f);
      }
      TensorType integerType = actType;
      keptFloat = true;
      actType = TensorType.FLOAT32;
      try {
        emit(n);
      } finally {
        keptFloat = false;
        actType = integerType;
      }
      tensorIndex.putAll(integerInputs);
      int floatOut = tensorIndex.get(n.output());
      int out = addActivation(n.output(), graph.tensor(n.output()).shape());
      ops.add(op(BuiltinOp.QUANTIZE, TensorType.FLOAT32, null, actType, new int[] {floatOut}, new int[] {out},
          null));
    }

    void emitGlobalPool(Node.GlobalPool g, GraphTensor outT) {
      GraphTensor inT = graph.tensor(g.input());
      int in = tensorIndex.get(g.input());
      if (g.kind() == Node.PoolKind.AVG) {
        int axes = addInt32Const(g.name() + "/axes", new int[] {1, 2});
        int out = addActivation(g.output(), outT.shape());
        ops.add(op(BuiltinOp.MEAN, actType, null, actType, new int[] {in, axes}, new int[] {out},
            new OperatorOptions.ReducerParams(g.keepDims())));
        return;
      }
      int[] pooledShape = {1, 1, 1, inT.dim(3)};
      OperatorOptions.PoolParams whole = new OperatorOptions.PoolParams(Padding.VALID, 1, 1, inT.dim(2),
          inT.dim(1), FusedActivation.NONE);
      if (g.keepDims()) {
        int out = addActivation(g.output(), outT.shape());
        ops.add(op(BuiltinOp.MAX_POOL_2D, actType, null, actType, new int[] {in}, new int[] {out}, whole));
        return;
      }
      String pooledName = g.name() + "/pooled";
      params.put(pooledName, params.get(g.input()));
      int pooled = addActivation(pooledName, pooledShape);
      ops.add(op(BuiltinOp.MAX_POOL_2D, actType, null, actType, new int[] {in}, new int[] {pooled}, whole));
      int[] newShape = batchFree(outT.shape());
      int shape = addInt32Const(g.name() + "/shape", newShape);
      int out = addActivation(g.output(), outT.shape());
      ops.add(op(BuiltinOp.RESHAPE, actType, null, actType, new int[] {pooled, shape}, new int[] {out},
          new OperatorOptions.ReshapeParams(newShape)));
    }

    // ---- metadata ----

    byte[] minRuntimeBytes(List<TfliteOperator> all) {
      String v = "";
      for (TfliteOperator o : all) {
        String r = OpVersions.minRuntime(o.op(), o.version());
        if (!r.isEmpty() && OpVersions.precedes(v, r)) {
          v = r;
        }
      }
      byte[] b = new byte[16]; // the converter reserves 16 bytes, zero-padded
      byte[] s = v.getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(s, 0, b, 0, s.length);
      return b;
    }

    byte[] provenance(List<TfliteOperator> all) {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("format", 1);
      p.put("producer", "SparkQuant");
      p.put("projectVersion", options.projectVersion());
      p.put("mode", mode.cliName());
      p.put("io", integer() ? options.io().name().toLowerCase() : "float");
      p.put("graph", graph.name());
      p.put("sourceModelSha256", options.sourceModelSha256());
      if (!options.floatNodes().isEmpty()) {
        p.put("floatNodes", List.copyOf(options.floatNodes()));
      }
      if (options.ranges() != null) {
        p.put("rangeMethod", options.ranges().method());
      }
      if (options.perTensorWeights()) {
        p.put("perTensorWeights", true);
      }
      Map<String, Integer> opCounts = new TreeMap<>();
      for (TfliteOperator o : all) {
        opCounts.merge(o.opName() + "/v" + o.version(), 1, Integer::sum);
      }
      p.put("ops", opCounts);
      try {
        return JSON.writeValueAsBytes(p);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("cannot write provenance JSON", e);
      }
    }
  }

  /** A RESHAPE target with the batch dimension left to the runtime (-1), as the converter writes flatten. */
  private static int[] batchFree(int[] shape) {
    int[] s = shape.clone();
    s[0] = -1;
    return s;
  }

  private static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }
}
