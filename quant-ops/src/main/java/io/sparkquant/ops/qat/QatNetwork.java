package io.sparkquant.ops.qat;

import static io.sparkquant.ops.qat.FakeQuantActivation.floats;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.ConstTensor;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Dl4jInputLayout;
import io.sparkquant.ops.graph.Dl4jSource;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.GraphTensor;
import io.sparkquant.ops.graph.Node;
import io.sparkquant.ops.graph.UnsupportedModelException;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.numerics.QuantParams;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A quantization-aware training network built from the graph IR (BatchNorm folded, activations fused, NHWC): a DL4J
 * {@link ComputationGraph} whose parameters are the IR's weights in DL4J's layouts and whose fake-quant hooks sit at
 * exactly the tensors {@link TfliteExporter} quantizes, with the ranges of the same tensor names; and the way back,
 * {@link #writeBack()}: the trained parameters in a new Graph with the same nodes and tensors, ready for export.
 *
 * <p>The DL4J network computes in NCHW and reads its input in the layout of the model the graph was imported from
 * ({@link Graph#dl4jInputLayout()}), so the data that trained the float model fine-tunes this one unchanged;
 * {@link #toDl4jInput} converts NHWC rows. The mapping, node by node, is in the package documentation.
 *
 * <p>The hooks live in the layer configurations, looked up by vertex name on every call, so a network restored from
 * ModelSerializer or a Spark broadcast can be reattached with {@link #attach}.
 *
 * <p>The conv, depthwise and dense layers' hooks simulate their int8 kernels (requantizing the recovered int32
 * accumulator as the kernel does, {@link FakeQuantActivation#setIntegerKernel}), reading the input parameters that
 * {@link #setRanges} gives them. {@link #snapBiasesToExport} sets each bias to the int32 value the exporter writes
 * (the export does not change); with the integer kernels the simulation no longer depends on it except at exact ties
 * of {@code bias / (inputScale * filterScale)}, but the network then holds exactly the biases that ship.
 *
 * <p>BatchNorm. By default the network fine-tunes the IR's folded weights {@code Wf = W * gamma / std} and biases:
 * BatchNorm is folded before fine-tuning, and the weights the hooks quantize are the weights exported.
 * {@link Options#withFrozenBatchNorm} ({@link #frozenBatchNormOf} reads the statistics of a DL4J model) simulates
 * the folding instead: the conv holds the unfolded {@code W} and the frozen {@code (b - mean) / std}, a 1x1
 * depthwise layer after it holds the trainable {@code gamma} (weights) and {@code beta} (bias), and the forward pass
 * quantizes {@code Wf} per output channel ({@link FoldedBatchNormWeights}); {@link #writeBack()} writes {@code Wf}
 * and {@code gamma * (b - mean) / std + beta} computed by the same code, so the export still quantizes what was
 * simulated (FrozenBatchNormTest). Folding is the default because the frozen-statistics variant was not better:
 * jobs BatchNormQatMeasurement, micro preset (3 epochs on 4,000 rows, 150 steps each way), int8 accuracy on the
 * full test set 72.75% folded vs 65.36% frozen statistics (PTQ 71.09%); the cnn preset is not measured yet
 * (README, "Quantization-aware training").
 */
public final class QatNetwork {

  /** What the builder accepts; quoted in every rejection. */
  public static final String SUPPORTED = "CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED (fused NONE/RELU/RELU6), "
      + "MAX/AVERAGE_POOL_2D, global MAX/AVG pooling, ADD (fused NONE/RELU/RELU6), RELU/RELU6/TANH/LOGISTIC, "
      + "LEAKY_RELU, PAD, RESIZE_NEAREST_NEIGHBOR, CONCATENATION (channel axis), RESHAPE as the flatten before a FULLY_CONNECTED, SOFTMAX as the graph output after a FULLY_CONNECTED; "
      + "the graph output must come from a FULLY_CONNECTED (with or without that SOFTMAX)";

  /**
   * How to build the network.
   *
   * @param perTensorWeights one weight scale per tensor for every layer (per channel for conv and depthwise
   *     otherwise, as the exporter writes them)
   * @param quantizeSoftmaxOutput fake-quantize a softmax output at the exporter's fixed (1/256, -128); false keeps it
   *     in float so that cross-entropy never sees a probability of 0 (the logits are quantized either way)
   * @param updater DL4J updater for fine-tuning
   * @param seed DL4J configuration seed
   */
  public record Options(boolean perTensorWeights, boolean quantizeSoftmaxOutput, IUpdater updater, long seed,
      Map<String, FrozenBatchNorm> frozenBatchNorm) {

    public Options {
      Objects.requireNonNull(updater, "updater");
      frozenBatchNorm = Map.copyOf(frozenBatchNorm);
    }

    /** BatchNorm folded before fine-tuning (the default): the conv weights are the IR's folded weights. */
    public Options(boolean perTensorWeights, boolean quantizeSoftmaxOutput, IUpdater updater, long seed) {
      this(perTensorWeights, quantizeSoftmaxOutput, updater, seed, Map.of());
    }

    /** Per-channel weights, float softmax output (for training), Adam(1e-3), seed 12345. */
    public static Options defaults() {
      return new Options(false, false, new Adam(1e-3), 12345L);
    }

    public Options withPerTensorWeights(boolean b) {
      return new Options(b, quantizeSoftmaxOutput, updater, seed, frozenBatchNorm);
    }

    public Options withQuantizeSoftmaxOutput(boolean b) {
      return new Options(perTensorWeights, b, updater, seed, frozenBatchNorm);
    }

    public Options withUpdater(IUpdater u) {
      return new Options(perTensorWeights, quantizeSoftmaxOutput, u, seed, frozenBatchNorm);
    }

    /**
     * Simulates the BatchNorm folded into these conv/depthwise nodes with frozen statistics instead of fine-tuning
     * the folded weights (see the class documentation).
     */
    public Options withFrozenBatchNorm(Map<String, FrozenBatchNorm> byNode) {
      return new Options(perTensorWeights, quantizeSoftmaxOutput, updater, seed, byNode);
    }
  }

  /**
   * The BatchNormalization the importer folded into a conv/depthwise node, per output channel: trainable
   * {@code gamma}, {@code beta}, and the frozen {@code std = sqrt(runningVariance + eps)}. With the node's folded
   * {@code Wf = W * gamma / std} and {@code bf = gamma * (b - mean) / std + beta} they give back the unfolded
   * {@code W} and the frozen {@code (b - mean) / std}.
   */
  public record FrozenBatchNorm(float[] gamma, float[] beta, float[] std) {

    public FrozenBatchNorm {
      if (gamma.length != beta.length || gamma.length != std.length) {
        throw new IllegalArgumentException("gamma, beta, std have " + gamma.length + ", " + beta.length + ", "
            + std.length + " channels; expected one length");
      }
      for (int c = 0; c < gamma.length; c++) {
        if (gamma[c] == 0f || !(std[c] > 0f)) {
          throw new IllegalArgumentException("channel " + c + ": gamma " + gamma[c] + ", std " + std[c]
              + "; the folded weights can be unfolded only with gamma != 0 and std > 0");
        }
      }
      gamma = gamma.clone();
      beta = beta.clone();
      std = std.clone();
    }

    /** From DL4J's running statistics: {@code std = sqrt(variance + eps)} in double, as the importer folds. */
    public static FrozenBatchNorm of(float[] gamma, float[] beta, float[] variance, double eps) {
      float[] std = new float[variance.length];
      for (int c = 0; c < std.length; c++) {
        std[c] = (float) Math.sqrt(variance[c] + eps);
      }
      return new FrozenBatchNorm(gamma, beta, std);
    }
  }

  /** Which fake-quantizer of a vertex a hook is. */
  private enum Side { NETWORK_INPUT, PRE_ACTIVATION, OUTPUT }

  /**
   * Where the exporter's int8 parameters of a tensor come from, as a range whose {@code QuantParams.int8Activation}
   * gives them: a calibrated tensor's range (the tensor itself, or the one it inherits its parameters from through
   * pools, reshape, pad and resize), a fixed range (softmax, logistic, tanh outputs), or for a CONCATENATION the
   * combination of its inputs' ({@link TfliteExporter#int8ConcatenationRange}).
   */
  private sealed interface RangeSource {
    /** @param reader the hook that needs it, for the error message */
    float[] range(ActivationRanges ranges, Graph graph, String reader);
  }

  private record Calibrated(String tensor) implements RangeSource {
    @Override
    public float[] range(ActivationRanges ranges, Graph graph, String reader) {
      return ranges.get(tensor).orElseThrow(() -> new IllegalArgumentException("no range for tensor '" + tensor
          + "' (" + reader + "); ranges are needed for " + TfliteExporter.tensorsNeedingRanges(graph)));
    }
  }

  private record Fixed(float[] fixedRange) implements RangeSource {
    @Override
    public float[] range(ActivationRanges ranges, Graph graph, String reader) {
      return fixedRange.clone();
    }
  }

  /** A CONCATENATION's output: its inputs' parameters when they all agree, else the union of their ranges. */
  private record Union(List<RangeSource> inputs) implements RangeSource {
    @Override
    public float[] range(ActivationRanges ranges, Graph graph, String reader) {
      List<float[]> in = new ArrayList<>();
      List<QuantParams> params = new ArrayList<>();
      for (RangeSource s : inputs) {
        float[] r = s.range(ranges, graph, reader);
        in.add(r);
        params.add(QuantParams.int8Activation(r[0], r[1]));
      }
      return params.stream().distinct().count() == 1 ? in.get(0) : TfliteExporter.int8ConcatenationRange(params);
    }
  }

  /**
   * One activation fake-quantizer: the graph tensor it simulates, the vertex holding it, and where its range comes
   * from ({@link #setRanges}); null when it is set once at build (tanh/logistic outputs) or by
   * {@link #setSoftmaxOutputQuantized}.
   */
  private record Hook(String tensor, String vertex, Side side, RangeSource source) {

    /** Whether this hook holds the calibrated range of {@code t} itself (the one {@link #ranges()} reads back). */
    boolean holdsRangeOf(String t) {
      return t.equals(tensor) && source instanceof Calibrated c && c.tensor().equals(t);
    }
  }

  /**
   * A conv/depthwise/dense vertex whose activation hook simulates its int8 kernel
   * ({@link FakeQuantActivation#setIntegerKernel}), and where the parameters of the tensor the kernel reads come from.
   */
  private record KernelHook(String vertex, FakeQuantActivation.IntegerKernel kernel, RangeSource input) {}

  private final Graph graph;
  private final ComputationGraph network;
  private final Map<String, String> weightVertices;
  /** Node -> the per-channel (gamma, beta) vertex after its conv, for nodes with frozen BatchNorm statistics. */
  private final Map<String, String> batchNormVertices;
  private final Map<String, FrozenBatchNorm> frozenBatchNorm;
  private final List<Hook> hooks;
  private final List<KernelHook> kernelHooks;
  private final String softmaxVertex;
  /** Graph tensor -> the vertex whose output is its float value when the hooks are off. */
  private final Map<String, String> observedAt;

  private QatNetwork(Graph graph, ComputationGraph network, Builder b, Map<String, FrozenBatchNorm> frozenBatchNorm) {
    this.graph = graph;
    this.network = network;
    this.weightVertices = b.weightVertices;
    this.batchNormVertices = b.batchNormVertices;
    this.frozenBatchNorm = frozenBatchNorm;
    this.hooks = b.hooks;
    this.kernelHooks = b.kernelHooks;
    this.softmaxVertex = b.softmaxVertex;
    this.observedAt = b.observedAt;
    for (Map.Entry<String, String> e : batchNormVertices.entrySet()) {
      foldedWeights(e.getKey()).bind(network.getLayer(e.getValue()).getParam("W"));
    }
  }

  /**
   * Builds the network: layers from the graph's nodes, parameters from its weights, hooks enabled with the ranges of
   * the tensors they simulate.
   *
   * @param ranges a range for every tensor in {@link TfliteExporter#tensorsNeedingRanges}
   * @throws UnsupportedModelException naming the first node (name, index, type, origin) the builder cannot express
   * @throws IllegalArgumentException if a range is missing
   */
  public static QatNetwork build(Graph graph, ActivationRanges ranges, Options options) {
    Builder b = new Builder(graph, options);
    b.addAll(); // rejects an unsupported node before anything else
    Objects.requireNonNull(ranges, "ranges (from a calibration table)");
    ComputationGraphConfiguration conf = b.gb.build();
    FakeQuantInputPreProcessor.install(conf, 0f, 0f); // its range is set below with the others
    ComputationGraph network = new ComputationGraph(conf);
    network.init();
    QatNetwork qat = new QatNetwork(graph, network, b, options.frozenBatchNorm());
    qat.loadWeights(graph);
    qat.setRanges(ranges);
    qat.setSoftmaxOutputQuantized(options.quantizeSoftmaxOutput());
    return qat;
  }

  /**
   * Checks that {@link #build} can express every node of {@code graph}, without building anything (a command's
   * validation, before Spark starts).
   *
   * @throws UnsupportedModelException naming the first node (name, index, type, origin) it cannot express
   */
  public static void checkSupported(Graph graph) {
    new Builder(graph, Options.defaults()).addAll();
  }

  /**
   * Reattaches to a network {@link #build} made from {@code graph} (e.g. restored from ModelSerializer): the builder
   * is rerun on the graph to recover the vertex of every node and hook, and its parameters are not touched.
   */
  public static QatNetwork attach(Graph graph, ComputationGraph network) {
    return attach(graph, network, Options.defaults());
  }

  /** {@link #attach(Graph, ComputationGraph)} for a network built with these options (frozen BatchNorm). */
  public static QatNetwork attach(Graph graph, ComputationGraph network, Options options) {
    Builder b = new Builder(graph, options);
    b.addAll();
    for (String v : b.weightVertices.values()) {
      if (network.getLayer(v) == null) {
        throw new IllegalArgumentException("network has no layer '" + v + "'; was it built from graph '"
            + graph.name() + "'?");
      }
    }
    return new QatNetwork(graph, network, b, options.frozenBatchNorm());
  }

  /**
   * The BatchNormalization statistics of a MultiLayerNetwork by the graph node the importer folded each one into
   * (the node whose origin names {@code layer i 'name' (BatchNormalization)}), for
   * {@link Options#withFrozenBatchNorm}.
   *
   * @throws IllegalArgumentException for a locked-gamma/beta or log-std BatchNormalization, or one no node folds
   */
  public static Map<String, FrozenBatchNorm> frozenBatchNormOf(Graph graph, MultiLayerNetwork net) {
    Map<String, FrozenBatchNorm> out = new LinkedHashMap<>();
    for (int i = 0; i < net.getnLayers(); i++) {
      if (!(net.getLayer(i).conf().getLayer() instanceof BatchNormalization bn)) {
        continue;
      }
      if (bn.isLockGammaBeta()) {
        throw new IllegalArgumentException("layer " + i + " '" + bn.getLayerName() + "': BatchNormalization with "
            + "locked gamma/beta has nothing to train; fold it (the default)");
      }
      String name = bn.getLayerName() != null ? bn.getLayerName() : "layer" + i;
      String origin = "layer " + i + " '" + name + "' (BatchNormalization)";
      Node node = graph.nodes().stream().filter(n -> n.origin().contains(origin)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no node folds " + origin));
      Map<String, INDArray> p = net.getLayer(i).paramTable();
      float[] variance;
      if (bn.isUseLogStd()) {
        // DL4J's default: var = (10^log10std)^2, as the importer folds it.
        variance = floats(p.get(BatchNormalizationParamInitializer.GLOBAL_LOG_STD));
        for (int c = 0; c < variance.length; c++) {
          double std = Math.pow(10.0, variance[c]);
          variance[c] = (float) (std * std);
        }
      } else {
        variance = floats(p.get(BatchNormalizationParamInitializer.GLOBAL_VAR));
      }
      out.put(node.name(), FrozenBatchNorm.of(floats(p.get(BatchNormalizationParamInitializer.GAMMA)),
          floats(p.get(BatchNormalizationParamInitializer.BETA)), variance, bn.getEps()));
    }
    return out;
  }

  public ComputationGraph network() {
    return network;
  }

  /** The graph the network was built from (its weights are the ones at build time). */
  public Graph graph() {
    return graph;
  }

  /** Converts NHWC rows (row-major, {@code batch * item size} floats) to the network's input layout. */
  public INDArray toDl4jInput(float[] nhwc, int batch) {
    return Dl4jActivations.toDl4jInput(graph, nhwc, batch);
  }

  /** Switches every hook on or off; off, the network computes the graph in float. */
  public void setEnabled(boolean enabled) {
    FakeQuant.setEnabled(network, enabled);
    for (String node : batchNormVertices.keySet()) {
      foldedWeights(node).setEnabled(enabled);
    }
  }

  /** Fake-quantizes the softmax output at (1/256, -128), as deployed, or leaves it in float for training. */
  public void setSoftmaxOutputQuantized(boolean quantized) {
    if (softmaxVertex == null) {
      return;
    }
    FakeQuantActivation a = activationHook(softmaxVertex);
    if (quantized) {
      float[] r = FakeQuantActivation.fixedOutputRange(new ActivationSoftmax());
      a.setOutputRange(r[0], r[1]);
    } else {
      a.clearOutputRange();
    }
  }

  /**
   * Sets every hook from calibrated ranges (average pooling takes the range of the tensor it inherits from, a
   * concatenation's output the combination of its inputs', as the exporter chooses them).
   */
  public void setRanges(ActivationRanges ranges) {
    for (Hook h : hooks) {
      if (h.source() == null) {
        continue;
      }
      float[] r = h.source().range(ranges, graph, "simulated at vertex "
          + (h.vertex() == null ? "input" : "'" + h.vertex() + "'"));
      switch (h.side()) {
        case NETWORK_INPUT -> FakeQuant.setInputRange(network, r[0], r[1]);
        case PRE_ACTIVATION -> activationHook(h.vertex()).setInputRange(r[0], r[1]);
        case OUTPUT -> activationHook(h.vertex()).setOutputRange(r[0], r[1]);
        default -> throw new IllegalStateException("unknown side " + h.side());
      }
    }
    for (KernelHook k : kernelHooks) {
      float[] r = k.input().range(ranges, graph, "read by vertex '" + k.vertex() + "'");
      activationHook(k.vertex()).setIntegerKernel(k.kernel(), r[0], r[1]);
    }
  }

  /** The current range of every tensor the exporter needs one for, read from the hooks, by graph tensor name. */
  public ActivationRanges ranges() {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (String t : TfliteExporter.tensorsNeedingRanges(graph)) {
      Hook h = hooks.stream().filter(k -> k.holdsRangeOf(t)).findFirst()
          .orElseThrow(() -> new IllegalStateException("no hook simulates tensor '" + t + "'"));
      float[] r = switch (h.side()) {
        case NETWORK_INPUT -> FakeQuant.inputQuantizers(network).get(0).getRange();
        case PRE_ACTIVATION -> activationHook(h.vertex()).getInputRange();
        case OUTPUT -> activationHook(h.vertex()).getOutputRange();
      };
      out.put(t, r);
    }
    return ActivationRanges.of(out, "qat");
  }

  /**
   * The network's current parameters written into a new graph with the same name, nodes, tensors and origins: only
   * the weights and biases differ, so {@link TfliteExporter} exports the fine-tuned model.
   */
  public Graph writeBack() {
    List<Node> nodes = new ArrayList<>();
    for (Node n : graph.nodes()) {
      nodes.add(withWeights(n));
    }
    List<GraphTensor> rest = new ArrayList<>(graph.tensors());
    rest.remove(0); // the input, passed separately
    return Graph.of(graph.name(), graph.input(), rest, nodes, graph.output().name(), graph.dl4jInputLayout());
  }

  /**
   * {@link #writeBack()} with each tensor's {@link Dl4jSource} naming the vertex of this network that outputs its
   * float value when the hooks are off ({@link #setEnabled}{@code (false)}), or derived where none does (a flatten,
   * the logits under a softmax output layer): {@link Dl4jActivations#collect} on this network, hooks off, observes
   * the fine-tuned float model, e.g. to refresh calibration statistics between epochs.
   */
  public Graph observableGraph() {
    Graph tuned = writeBack();
    List<GraphTensor> rest = new ArrayList<>();
    for (GraphTensor t : tuned.tensors().subList(1, tuned.tensors().size())) {
      String v = observedAt.get(t.name());
      rest.add(new GraphTensor(t.name(), t.shape(), t.producer(), v == null ? Dl4jSource.derived()
          : Dl4jSource.cgVertex(v)));
    }
    GraphTensor in = tuned.input();
    return Graph.of(tuned.name(), new GraphTensor(in.name(), in.shape(), null, Dl4jSource.networkInput(in.name())),
        rest, tuned.nodes(), tuned.output().name(), tuned.dl4jInputLayout());
  }

  /**
   * Rounds every bias to the int32 value the exporter writes for it: exports the current weights with
   * {@code int8Options} (the QAT ranges, and per-tensor weights if those are exported), reads each bias back as
   * {@code q * inputScale * weightScale[c]} and sets it. The simulation then adds the deployed bias instead of the
   * float one, which removes the largest simulation-vs-TFLite rounding difference of conv and dense outputs
   * (measured on 200 Fashion-MNIST rows of a depthwise-separable net: the first conv's one-step differences went
   * from 67 to 2 of 313,600 outputs). The exported model does not change: the snapped bias rounds to the same int32.
   * Call it after fine-tuning, before evaluating the simulation; a training step moves the biases off the grid.
   *
   * @return the largest change of a bias, in units of its int32 step (at most 0.5)
   */
  public double snapBiasesToExport(ExportOptions int8Options) {
    TfliteModel exported = TfliteExporter.export(writeBack(), int8Options);
    double largest = 0;
    for (Map.Entry<String, String> e : weightVertices.entrySet()) {
      TfliteTensor t = exported.tensor(exported.tensorIndex(e.getKey() + "/bias"));
      if (t.type() != TensorType.INT32) {
        throw new IllegalArgumentException("node '" + e.getKey() + "' bias is exported as " + t.type()
            + "; snapping needs an int8 export (INT32 biases), got mode " + int8Options.mode());
      }
      int[] q = t.intValues();
      float[] scales = t.quantization().scale();
      float[] old = exportedBias(e.getKey());
      float[] snapped = new float[q.length];
      for (int c = 0; c < q.length; c++) {
        double step = scales[scales.length == 1 ? 0 : c];
        snapped[c] = (float) (q[c] * step);
        largest = Math.max(largest, Math.abs(old[c] - snapped[c]) / step);
      }
      setExportedBias(e.getKey(), snapped);
    }
    return largest;
  }

  private Node withWeights(Node n) {
    if (n instanceof Node.Conv2D c) {
      int[] s = c.filter().shape(); // OHWI
      INDArray w = exportedWeights(c.name()); // [out, in, kH, kW]
      return new Node.Conv2D(c.name(), c.input(), c.output(), new ConstTensor(s, floats(w.permute(0, 2, 3, 1))),
          bias(c.name(), c.bias()), c.strideH(), c.strideW(), c.dilationH(), c.dilationW(), c.padding(),
          c.activation(), c.origin());
    }
    if (n instanceof Node.DepthwiseConv2D d) {
      // DL4J's [kH, kW, in, m] row-major is the IR's [1, kH, kW, in * m].
      return new Node.DepthwiseConv2D(d.name(), d.input(), d.output(),
          new ConstTensor(d.filter().shape(), floats(exportedWeights(d.name()))), bias(d.name(), d.bias()),
          d.depthMultiplier(), d.strideH(), d.strideW(), d.dilationH(), d.dilationW(), d.padding(), d.activation(),
          d.origin());
    }
    if (n instanceof Node.FullyConnected f) {
      int nOut = f.weights().dim(0);
      int nIn = f.weights().dim(1);
      int[] nhwcRow = flattenRows(graph, f);
      float[] src = floats(param(f.name(), "W")); // [in, out], rows in DL4J's flatten order
      float[] wt = new float[nOut * nIn];
      for (int r = 0; r < nIn; r++) {
        for (int o = 0; o < nOut; o++) {
          wt[o * nIn + nhwcRow[r]] = src[r * nOut + o];
        }
      }
      return new Node.FullyConnected(f.name(), f.input(), f.output(), new ConstTensor(new int[] {nOut, nIn}, wt),
          bias(f.name(), f.bias()), f.activation(), f.origin());
    }
    return n;
  }

  private ConstTensor bias(String node, ConstTensor original) {
    return new ConstTensor(original.shape(), exportedBias(node));
  }

  /**
   * The weights the export quantizes, in the layer's DL4J layout: the parameter itself, or with frozen BatchNorm
   * statistics the folded {@code W * gamma / std}, computed by the same code as the forward pass's.
   */
  private INDArray exportedWeights(String node) {
    INDArray w = param(node, "W");
    if (!batchNormVertices.containsKey(node)) {
      return w;
    }
    float[] folded = FoldedBatchNormWeights.folded(layerConf(node), w, gamma(node), foldedWeights(node).getStd());
    return Nd4j.create(folded, w.shape(), 'c');
  }

  /** The bias the export writes: the parameter, or with frozen statistics {@code gamma * (b - mean) / std + beta}. */
  private float[] exportedBias(String node) {
    float[] b = floats(param(node, "b"));
    if (batchNormVertices.containsKey(node)) {
      float[] gamma = gamma(node);
      float[] beta = floats(network.getLayer(batchNormVertices.get(node)).getParam("b"));
      for (int c = 0; c < b.length; c++) {
        b[c] = gamma[c] * b[c] + beta[c];
      }
    }
    return b;
  }

  /** Sets the parameters so that {@link #exportedBias} is {@code bf} (with frozen statistics, through beta). */
  private void setExportedBias(String node, float[] bf) {
    if (!batchNormVertices.containsKey(node)) {
      assign(node, "b", bf);
      return;
    }
    float[] gamma = gamma(node);
    float[] frozen = floats(param(node, "b")); // (b - mean) / std
    float[] beta = new float[bf.length];
    for (int c = 0; c < bf.length; c++) {
      beta[c] = bf[c] - gamma[c] * frozen[c];
    }
    INDArray p = network.getLayer(batchNormVertices.get(node)).getParam("b");
    p.assign(Nd4j.create(beta, p.shape(), 'c').castTo(p.dataType()));
  }

  /** Sets the parameters so that {@link #exportedWeights} is the IR's {@code wf} (DL4J layout). */
  private void setExportedWeights(String node, float[] wf) {
    if (!batchNormVertices.containsKey(node)) {
      assign(node, "W", wf);
      return;
    }
    FrozenBatchNorm bn = options(node);
    // W = Wf * std / gamma: "fold" with gamma' = std, std' = gamma.
    INDArray wfArray = Nd4j.create(wf, param(node, "W").shape(), 'c');
    assign(node, "W", FoldedBatchNormWeights.folded(layerConf(node), wfArray, bn.std(), bn.gamma()));
  }

  private FrozenBatchNorm options(String node) {
    return frozenBatchNorm.get(node);
  }

  private float[] gamma(String node) {
    return floats(network.getLayer(batchNormVertices.get(node)).getParam("W"));
  }

  private FoldedBatchNormWeights foldedWeights(String node) {
    return (FoldedBatchNormWeights) ((org.deeplearning4j.nn.conf.layers.BaseLayer) layerConf(node)).getWeightNoise();
  }

  private org.deeplearning4j.nn.conf.layers.Layer layerConf(String node) {
    return network.getLayer(weightVertices.get(node)).conf().getLayer();
  }

  private INDArray param(String node, String key) {
    return network.getLayer(weightVertices.get(node)).getParam(key);
  }

  /** Copies the graph's weights into the network's parameters, in DL4J's layouts. */
  private void loadWeights(Graph g) {
    for (Node n : g.nodes()) {
      if (n instanceof Node.Conv2D c) {
        int[] s = c.filter().shape();
        INDArray ohwi = Nd4j.create(c.filter().data(), new long[] {s[0], s[1], s[2], s[3]}, 'c');
        setExportedWeights(c.name(), floats(ohwi.permute(0, 3, 1, 2)));
        loadBias(c.name(), c.bias().data());
      } else if (n instanceof Node.DepthwiseConv2D d) {
        setExportedWeights(d.name(), d.filter().data());
        loadBias(d.name(), d.bias().data());
      } else if (n instanceof Node.FullyConnected f) {
        int nOut = f.weights().dim(0);
        int nIn = f.weights().dim(1);
        int[] nhwcRow = flattenRows(g, f);
        float[] w = f.weights().data();
        float[] dst = new float[nIn * nOut];
        for (int r = 0; r < nIn; r++) {
          for (int o = 0; o < nOut; o++) {
            dst[r * nOut + o] = w[o * nIn + nhwcRow[r]];
          }
        }
        assign(f.name(), "W", dst);
        assign(f.name(), "b", f.bias().data());
      }
    }
  }

  /**
   * The graph's bias; with frozen statistics gamma and beta come from them and the conv keeps the frozen
   * {@code (b - mean) / std = (bf - beta) / gamma}.
   */
  private void loadBias(String node, float[] bf) {
    if (!batchNormVertices.containsKey(node)) {
      assign(node, "b", bf);
      return;
    }
    FrozenBatchNorm bn = options(node);
    float[] frozen = new float[bf.length];
    for (int c = 0; c < bf.length; c++) {
      frozen[c] = (bf[c] - bn.beta()[c]) / bn.gamma()[c];
    }
    assign(node, "b", frozen);
    org.deeplearning4j.nn.api.Layer affine = network.getLayer(batchNormVertices.get(node));
    affine.getParam("W").assign(Nd4j.create(bn.gamma(), affine.getParam("W").shape(), 'c'));
    affine.getParam("b").assign(Nd4j.create(bn.beta(), affine.getParam("b").shape(), 'c'));
  }

  private void assign(String node, String key, float[] values) {
    INDArray p = param(node, key);
    if (p.length() != values.length) {
      throw new IllegalStateException("node '" + node + "' parameter " + key + " has " + p.length()
          + " values in DL4J, " + values.length + " in the graph");
    }
    p.assign(Nd4j.create(values, p.shape(), 'c').castTo(p.dataType()));
  }

  /**
   * For each DL4J input row of a dense layer, the IR (NHWC flatten) row it is: DL4J flattens NCHW, row
   * {@code (c * H + y) * W + x}, which the NHWC flatten puts at {@code (y * W + x) * C + c}. The identity when the
   * layer's input is not a flattened image.
   */
  static int[] flattenRows(Graph g, Node.FullyConnected f) {
    int nIn = f.weights().dim(1);
    int[] rows = new int[nIn];
    Node producer = g.producer(f.input()).orElse(null);
    GraphTensor image = producer instanceof Node.Reshape r ? g.tensor(r.input()) : null;
    if (image == null || image.rank() != 4) {
      for (int i = 0; i < nIn; i++) {
        rows[i] = i;
      }
      return rows;
    }
    int h = image.dim(1);
    int w = image.dim(2);
    int c = image.dim(3);
    for (int ch = 0; ch < c; ch++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          rows[(ch * h + y) * w + x] = (y * w + x) * c + ch;
        }
      }
    }
    return rows;
  }

  private FakeQuantActivation activationHook(String vertex) {
    FakeQuantActivation a = FakeQuant.activation(network.getLayer(vertex).conf().getLayer());
    if (a == null) {
      throw new IllegalStateException("vertex '" + vertex + "' has no activation fake-quantizer");
    }
    return a;
  }

  /** Maps the graph's nodes to DL4J vertices, in graph order; collects the weight vertices and hooks. */
  private static final class Builder {
    final Graph graph;
    final Options options;
    final ComputationGraphConfiguration.GraphBuilder gb;
    /** IR tensor -> the DL4J vertex whose output holds its value. */
    final Map<String, String> vertexOf = new HashMap<>();
    final Set<String> vertexNames = new HashSet<>();
    final Map<String, String> weightVertices = new LinkedHashMap<>();
    final Map<String, String> observedAt = new HashMap<>();
    final Map<String, String> batchNormVertices = new LinkedHashMap<>();
    final List<Hook> hooks = new ArrayList<>();
    final List<KernelHook> kernelHooks = new ArrayList<>();
    String softmaxVertex;
    /** The identity layer through which non-layer vertices read the network input, or null (none does). */
    String quantizedInputVertex;

    Builder(Graph graph, Options options) {
      this.graph = graph;
      this.options = options;
      String in = graph.input().name();
      gb = new NeuralNetConfiguration.Builder().seed(options.seed()).dataType(DataType.FLOAT)
          .updater(options.updater()).weightInit(WeightInit.XAVIER).graphBuilder().addInputs(in)
          .setInputTypes(inputType(graph));
      vertexNames.add(in);
      vertexOf.put(in, in);
      hooks.add(new Hook(in, null, Side.NETWORK_INPUT, new Calibrated(in)));
    }

    static InputType inputType(Graph g) {
      GraphTensor in = g.input();
      Dl4jInputLayout layout = g.dl4jInputLayout();
      if (layout == null) {
        layout = in.rank() == 4 ? Dl4jInputLayout.NCHW : Dl4jInputLayout.FEED_FORWARD;
      }
      return switch (layout) {
        case FEED_FORWARD -> InputType.feedForward(in.dim(1));
        case NCHW -> InputType.convolutional(in.dim(1), in.dim(2), in.dim(3));
        case FLAT_CHW -> InputType.convolutionalFlat(in.dim(1), in.dim(2), in.dim(3));
      };
    }

    void addAll() {
      List<Node> nodes = graph.nodes();
      Node last = nodes.get(nodes.size() - 1);
      boolean softmaxOutput = last instanceof Node.Softmax s && producer(s.input()) instanceof Node.FullyConnected f
          && f.activation() == FusedActivation.NONE && graph.consumers(f.output()).size() == 1;
      if (!(last instanceof Node.FullyConnected) && !softmaxOutput) {
        throw reject(last, nodes.size() - 1, "the graph output must be produced by a FULLY_CONNECTED, or by a "
            + "SOFTMAX of a FULLY_CONNECTED without fused activation, to be trained with a loss");
      }
      String outputVertex = null;
      for (int i = 0; i < nodes.size(); i++) {
        Node n = nodes.get(i);
        boolean isOutputLayer = n == last || (softmaxOutput && n.output().equals(last.inputs().get(0)));
        if (n instanceof Node.Softmax s) {
          if (n != last || !softmaxOutput) {
            throw reject(n, i, "SOFTMAX is supported only as the graph output after a FULLY_CONNECTED");
          }
          String v = vertexOf.get(s.input());
          vertexOf.put(s.output(), v);
          observedAt.put(s.output(), v); // the output layer's activation is the softmax
          observedAt.remove(s.input()); // its logits are not a DL4J activation
          softmaxVertex = v;
          hooks.add(new Hook(s.output(), v, Side.OUTPUT, null));
          continue;
        }
        String v = add(n, i, isOutputLayer, softmaxOutput);
        if (isOutputLayer) {
          outputVertex = v;
        }
      }
      gb.setOutputs(outputVertex);
    }

    private Node producer(String tensor) {
      return graph.producer(tensor).orElse(null);
    }

    /** Adds the vertices of one node; returns the vertex that holds its output. */
    private String add(Node n, int index, boolean outputLayer, boolean softmaxOutput) {
      if (n instanceof Node.Conv2D c) {
        int[] f = c.filter().shape(); // OHWI
        FrozenBatchNorm bn = frozen(c.name(), f[0], n, index);
        String v = vertex(bn == null ? c.name() : c.name() + "_conv");
        ConvolutionLayer.Builder conv = new ConvolutionLayer.Builder(f[1], f[2]).stride(c.strideH(), c.strideW())
            .dilation(c.dilationH(), c.dilationW()).convolutionMode(mode(c.padding())).nIn(f[3]).nOut(f[0])
            .hasBias(true);
        weightVertices.put(c.name(), v);
        if (bn != null) {
          gb.addLayer(v, frozenStatistics(conv, bn).build(), vertexOf.get(c.input()));
          return produced(c.output(), batchNormScale(c, f[0], v, n, index));
        }
        gb.addLayer(v, conv.activation(outputHook(c.output(), v, fused(c.activation(), n, index)))
            .weightNoise(new FakeQuantWeights(options.perTensorWeights())).build(), vertexOf.get(c.input()));
        kernelHook(v, FakeQuantActivation.IntegerKernel.CONV_2D, c.input());
        return produced(c.output(), v);
      }
      if (n instanceof Node.DepthwiseConv2D d) {
        int[] f = d.filter().shape(); // [1, kH, kW, in * m]
        int m = d.depthMultiplier();
        FrozenBatchNorm bn = frozen(d.name(), f[3], n, index);
        String v = vertex(bn == null ? d.name() : d.name() + "_conv");
        DepthwiseConvolution2D.Builder dw = new DepthwiseConvolution2D.Builder(f[1], f[2])
            .stride(d.strideH(), d.strideW()).dilation(d.dilationH(), d.dilationW())
            .convolutionMode(mode(d.padding())).depthMultiplier(m).nIn(f[3] / m).nOut(f[3]).hasBias(true);
        weightVertices.put(d.name(), v);
        if (bn != null) {
          gb.addLayer(v, frozenStatistics(dw, bn).build(), vertexOf.get(d.input()));
          return produced(d.output(), batchNormScale(d, f[3], v, n, index));
        }
        gb.addLayer(v, dw.activation(outputHook(d.output(), v, fused(d.activation(), n, index)))
            .weightNoise(new FakeQuantWeights(options.perTensorWeights())).build(), vertexOf.get(d.input()));
        kernelHook(v, FakeQuantActivation.IntegerKernel.DEPTHWISE_CONV_2D, d.input());
        return produced(d.output(), v);
      }
      if (n instanceof Node.FullyConnected f) {
        int nOut = f.weights().dim(0);
        int nIn = f.weights().dim(1);
        String v = vertex(f.name());
        IActivation act = fused(f.activation(), n, index);
        FakeQuantWeights weights = new FakeQuantWeights(options.perTensorWeights());
        if (outputLayer && softmaxOutput) {
          // Logits quantized as the exporter's FULLY_CONNECTED output; softmax output: setSoftmaxOutputQuantized.
          hooks.add(new Hook(f.output(), v, Side.PRE_ACTIVATION, new Calibrated(f.output())));
          gb.addLayer(v, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(nIn).nOut(nOut).hasBias(true)
              .activation(new FakeQuantActivation(new ActivationSoftmax())).weightNoise(weights).build(),
              vertexOf.get(f.input()));
        } else if (outputLayer) {
          gb.addLayer(v, new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(nIn).nOut(nOut).hasBias(true)
              .activation(outputHook(f.output(), v, act)).weightNoise(weights).build(), vertexOf.get(f.input()));
        } else {
          gb.addLayer(v, new DenseLayer.Builder().nIn(nIn).nOut(nOut).hasBias(true)
              .activation(outputHook(f.output(), v, act)).weightNoise(weights).build(), vertexOf.get(f.input()));
        }
        weightVertices.put(f.name(), v);
        kernelHook(v, FakeQuantActivation.IntegerKernel.FULLY_CONNECTED, f.input());
        return produced(f.output(), v);
      }
      if (n instanceof Node.Pool2D p) {
        String v = vertex(p.name());
        SubsamplingLayer pool = new SubsamplingLayer.Builder(p.kind() == Node.PoolKind.MAX ? PoolingType.MAX
            : PoolingType.AVG).kernelSize(p.filterH(), p.filterW()).stride(p.strideH(), p.strideW())
            .convolutionMode(mode(p.padding())).build();
        pool.setAvgPoolIncludePadInDivisor(false); // TFLite divides by the real cells only
        gb.addLayer(v, pool, vertexOf.get(p.input()));
        if (p.kind() == Node.PoolKind.MAX) {
          return produced(p.output(), v); // the maximum of grid values is on the grid
        }
        // The int8 average keeps its input's parameters and is rounded to that grid.
        String fq = vertex(p.name() + "_fq");
        gb.addLayer(fq, identityHook(p.output(), fq, paramsOf(p.input())), v);
        return produced(p.output(), fq);
      }
      if (n instanceof Node.GlobalPool g) {
        String v = vertex(g.name());
        gb.addLayer(v, new GlobalPoolingLayer.Builder(g.kind() == Node.PoolKind.MAX ? PoolingType.MAX
            : PoolingType.AVG).collapseDimensions(!g.keepDims()).build(), vertexOf.get(g.input()));
        if (g.kind() == Node.PoolKind.MAX) {
          return produced(g.output(), v);
        }
        String fq = vertex(g.name() + "_fq"); // MEAN has a range of its own
        gb.addLayer(fq, identityHook(g.output(), fq, new Calibrated(g.output())), v);
        return produced(g.output(), fq);
      }
      if (n instanceof Node.Add a) {
        String sum = vertex(a.name() + "_sum");
        gb.addVertex(sum, new ElementWiseVertex(ElementWiseVertex.Op.Add), nonLayerInput(a.left()),
            nonLayerInput(a.right()));
        String v = vertex(a.name()); // the fused activation and the ADD's own output range
        gb.addLayer(v, new ActivationLayer.Builder().activation(outputHook(a.output(), v, fused(a.activation(), n,
            index))).build(), sum);
        return produced(a.output(), v);
      }
      if (n instanceof Node.Activation a) {
        String v = vertex(a.name());
        IActivation act = switch (a.kind()) {
          case RELU -> new ActivationReLU();
          case RELU6 -> new ActivationReLU6();
          case TANH -> new ActivationTanH();
          case LOGISTIC -> new ActivationSigmoid();
        };
        IActivation hooked;
        if (a.kind() == Node.ActivationKind.TANH || a.kind() == Node.ActivationKind.LOGISTIC) {
          float[] r = FakeQuantActivation.fixedOutputRange(act);
          hooked = FakeQuantActivation.output(act, r[0], r[1]);
          hooks.add(new Hook(a.output(), v, Side.OUTPUT, null));
        } else {
          hooked = outputHook(a.output(), v, act);
        }
        gb.addLayer(v, new ActivationLayer.Builder().activation(hooked).build(), inPlaceInput(a.input(), a.name()));
        return produced(a.output(), v);
      }
      if (n instanceof Node.LeakyRelu l) {
        // LEAKY_RELU has an output range of its own; its hook runs the int8 kernel (two fixed-point multipliers) on
        // the input's int8 values: fake-quantizing the float leaky relu instead put 2-13% of the outputs one step
        // off (QatNewLayersTest's models).
        String v = vertex(l.name());
        gb.addLayer(v, new ActivationLayer.Builder().activation(outputHook(l.output(), v,
            new ActivationLReLU(l.alpha()))).build(), inPlaceInput(l.input(), l.name()));
        kernelHook(v, FakeQuantActivation.IntegerKernel.LEAKY_RELU, l.input());
        return produced(l.output(), v);
      }
      if (n instanceof Node.Pad p) {
        // PAD keeps its input's parameters and fills with its zero point, a real 0: the padded values are on the grid.
        // DL4J pads NCHW's H (top, bottom) and W (left, right), the IR's NHWC dimensions 1 and 2.
        String v = vertex(p.name());
        gb.addLayer(v, new ZeroPaddingLayer.Builder(p.top(), p.bottom(), p.left(), p.right()).build(),
            vertexOf.get(p.input()));
        return produced(p.output(), v);
      }
      if (n instanceof Node.ResizeNearest r) {
        // Copies of input values: on the input's grid, whose parameters the exporter keeps.
        String v = vertex(r.name());
        gb.addLayer(v, new Upsampling2D.Builder().size(new int[] {r.factorH(), r.factorW()}).build(),
            vertexOf.get(r.input()));
        return produced(r.output(), v);
      }
      if (n instanceof Node.Concatenation c) {
        // The exporter requantizes each input whose parameters differ from the output's with a QUANTIZE op: each
        // input goes through a hook running that kernel (the identity when the parameters agree). Fake-quantizing
        // the merged float values instead put one step off on 11.6% of QatNewLayersTest's merge1 elements: TFLite's
        // MultiplyByQuantizedMultiplier rounds twice ((q - zIn) = -1 times 0.283 gives -1, not 0).
        RangeSource out = paramsOf(c.output());
        List<String> requantized = new ArrayList<>();
        for (String in : c.inputs()) {
          String v = vertex(c.name() + "_requantize_" + in);
          gb.addLayer(v, identityHook(in + "/requantized/" + c.name(), v, out), inPlaceInput(in, c.name()));
          kernelHook(v, FakeQuantActivation.IntegerKernel.REQUANTIZE, in);
          requantized.add(v);
        }
        // MergeVertex joins along dimension 1: NCHW channels (or the features of [N, F]), the IR's last axis.
        String merged = vertex(c.name());
        gb.addVertex(merged, new MergeVertex(), requantized.toArray(String[]::new));
        return produced(c.output(), merged);
      }
      if (n instanceof Node.Reshape r) {
        GraphTensor in = graph.tensor(r.input());
        int[] s = r.newShape();
        boolean flatten = in.rank() == 4 && s.length == 2 && s[1] == in.itemSize();
        boolean intoDense = graph.consumers(r.output()).stream().allMatch(c -> c instanceof Node.FullyConnected);
        if (!flatten || !intoDense) {
          throw reject(n, index, "RESHAPE is supported only as the flatten of an image before FULLY_CONNECTED layers");
        }
        // DL4J's CnnToFeedForwardPreProcessor flattens in NCHW order; the dense weights' rows are permuted instead.
        vertexOf.put(r.output(), vertexOf.get(r.input())); // NCHW there: not observable as the NHWC flatten
        return vertexOf.get(r.input());
      }
      throw reject(n, index, "node type " + n.getClass().getSimpleName() + " is not supported");
    }

    /** The frozen BatchNorm statistics of a node, or null when its folded weights are fine-tuned. */
    private FrozenBatchNorm frozen(String node, int channels, Node n, int index) {
      FrozenBatchNorm bn = options.frozenBatchNorm().get(node);
      if (bn != null && bn.gamma().length != channels) {
        throw reject(n, index, "frozen BatchNorm statistics have " + bn.gamma().length + " channels, the node "
            + channels);
      }
      return bn;
    }

    /**
     * The convolution of a node with frozen BatchNorm statistics: unfolded weights, quantized folded in the forward
     * pass; its bias is the frozen {@code (b - mean) / std} (not trained: beta after it is the same degree of
     * freedom); identity activation, the node's hooks sit on the per-channel layer after it.
     */
    private <T extends org.deeplearning4j.nn.conf.layers.BaseLayer.Builder<T>> T frozenStatistics(T conv,
        FrozenBatchNorm bn) {
      return conv.activation(new ActivationIdentity()).weightNoise(new FoldedBatchNormWeights(bn.std(),
          options.perTensorWeights())).biasUpdater(new org.nd4j.linalg.learning.config.NoOp());
    }

    /**
     * {@code gamma * z + beta} per channel as a 1x1 depthwise convolution (its weights are gamma, its bias beta,
     * both trained) with the node's fused activation and output hook; returns its vertex.
     */
    private String batchNormScale(Node n, int channels, String input, Node nodeForErrors, int index) {
      String v = vertex(n.name());
      gb.addLayer(v, new DepthwiseConvolution2D.Builder(1, 1).depthMultiplier(1).nIn(channels).nOut(channels)
          .convolutionMode(ConvolutionMode.Truncate).hasBias(true)
          .activation(outputHook(n.output(), v, fused(activation(n), nodeForErrors, index))).build(), input);
      batchNormVertices.put(n.name(), v);
      return v;
    }

    private static FusedActivation activation(Node n) {
      return n instanceof Node.Conv2D c ? c.activation() : ((Node.DepthwiseConv2D) n).activation();
    }

    private String produced(String tensor, String vertex) {
      vertexOf.put(tensor, vertex);
      observedAt.put(tensor, vertex);
      return vertex;
    }

    /** A vertex name that is not taken yet (the node's own name whenever possible). */
    private String vertex(String base) {
      String v = base;
      for (int i = 1; !vertexNames.add(v); i++) {
        v = base + "_" + i;
      }
      return v;
    }

    /** The vertex's output hook simulates {@code kernel} reading {@code input}. */
    private void kernelHook(String vertex, FakeQuantActivation.IntegerKernel kernel, String input) {
      kernelHooks.add(new KernelHook(vertex, kernel, paramsOf(input)));
    }

    private FakeQuantActivation outputHook(String tensor, String vertex, IActivation act) {
      hooks.add(new Hook(tensor, vertex, Side.OUTPUT, new Calibrated(tensor)));
      return new FakeQuantActivation(act);
    }

    /** An identity fake-quantizer of {@code tensor} whose range comes from {@code source}. */
    private ActivationLayer identityHook(String tensor, String vertex, RangeSource source) {
      FakeQuantActivation fq = new FakeQuantActivation(new ActivationIdentity());
      hooks.add(new Hook(tensor, vertex, Side.OUTPUT, source));
      return new ActivationLayer.Builder().activation(fq).build();
    }

    /**
     * The vertex a non-layer vertex (ADD's sum, a concatenation's merge) reads for {@code tensor}. The network input
     * is fake-quantized by a preprocessor, which only layers have: such a vertex reads it through one identity
     * ActivationLayer {@code <input>_quantized} holding that preprocessor (on its own copy, so the caller's array is
     * not touched).
     */
    private String nonLayerInput(String tensor) {
      String in = graph.input().name();
      if (!tensor.equals(in)) {
        return vertexOf.get(tensor);
      }
      if (quantizedInputVertex == null) {
        quantizedInputVertex = vertex(in + "_quantized");
        gb.addLayer(quantizedInputVertex, new ActivationLayer.Builder().activation(new ActivationIdentity()).build(),
            in);
      }
      return quantizedInputVertex;
    }

    /**
     * The vertex an ActivationLayer of node {@code reader} reads for {@code tensor}. DL4J applies an ActivationLayer
     * in place at inference, on its input vertex's array: when other nodes read {@code tensor} too, the layer reads a
     * copy ({@code <tensor>_copy}, a ScaleVertex by 1, exact), or a vertex that runs after it would see the activated
     * values (measured: a MergeVertex of an upsampled tensor and its leaky relu got the leaky relu twice). Read by
     * this layer alone, the producer's vertex is overwritten, so {@code tensor} is observed as derived
     * ({@link #observableGraph}), as the importer does. The network input alone is copied by its fake-quantizer.
     */
    private String inPlaceInput(String tensor, String reader) {
      if (graph.consumers(tensor).size() > 1) {
        String copy = vertex(tensor + "_copy_for_" + reader);
        gb.addVertex(copy, new ScaleVertex(1.0), nonLayerInput(tensor));
        return copy;
      }
      if (!tensor.equals(graph.input().name())) {
        observedAt.remove(tensor);
      }
      return vertexOf.get(tensor);
    }

    /**
     * Where the exporter's int8 parameters of {@code tensor} come from: through nodes that keep their input's
     * parameters ({@link TfliteExporter#inheritsInputParams}) to a calibrated or fixed range, or a concatenation's.
     */
    private RangeSource paramsOf(String tensor) {
      Node p = producer(tensor);
      if (p != null && TfliteExporter.inheritsInputParams(p)) {
        return paramsOf(p.inputs().get(0));
      }
      if (p instanceof Node.Concatenation c) {
        return new Union(c.inputs().stream().map(this::paramsOf).toList());
      }
      float[] fixed = fixedRange(p);
      return fixed != null ? new Fixed(fixed) : new Calibrated(tensor);
    }

    /** The range giving the exporter's fixed output parameters of {@code p}, or null if calibrated. */
    private static float[] fixedRange(Node p) {
      if (p instanceof Node.Softmax) {
        return FakeQuantActivation.fixedOutputRange(new ActivationSoftmax());
      }
      if (p instanceof Node.Activation a && a.kind() == Node.ActivationKind.TANH) {
        return FakeQuantActivation.fixedOutputRange(new ActivationTanH());
      }
      if (p instanceof Node.Activation a && a.kind() == Node.ActivationKind.LOGISTIC) {
        return FakeQuantActivation.fixedOutputRange(new ActivationSigmoid());
      }
      return null;
    }

    private static IActivation fused(FusedActivation a, Node n, int index) {
      return switch (a) {
        case NONE -> new ActivationIdentity();
        case RELU -> new ActivationReLU();
        case RELU6 -> new ActivationReLU6();
        default -> throw reject(n, index, "fused activation " + a + " is not supported (NONE, RELU, RELU6 are)");
      };
    }

    private static ConvolutionMode mode(Padding p) {
      // DL4J's Same pads as TFLite's SAME (the extra cell bottom/right); Truncate without padding is VALID.
      return p == Padding.SAME ? ConvolutionMode.Same : ConvolutionMode.Truncate;
    }

    private static UnsupportedModelException reject(Node n, int index, String what) {
      return new UnsupportedModelException("node " + index + " '" + n.name() + "' (" + n.getClass().getSimpleName()
          + ", from " + n.origin() + "): " + what + "; supported: " + SUPPORTED);
    }
  }
}
