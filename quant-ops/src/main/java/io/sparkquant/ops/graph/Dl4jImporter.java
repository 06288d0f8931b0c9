package io.sparkquant.ops.graph;

import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports a DL4J {@link MultiLayerNetwork} or {@link ComputationGraph} into the NHWC {@link Graph} IR: weights
 * transposed from DL4J's layouts (conv {@code [out, in, kH, kW]} to OHWI, dense {@code [in, out]} to
 * {@code [out, in]}), BatchNormalization folded into the preceding conv/dense, RELU/RELU6 fused where TFLite fuses
 * them, and the dense layer after a CNN flatten given input rows in NHWC flatten order.
 *
 * <p>Every unsupported layer or setting fails with an {@link UnsupportedModelException} naming the layer (name,
 * index, type), what is wrong and what is supported.
 */
public final class Dl4jImporter {

  private static final Logger LOG = LoggerFactory.getLogger(Dl4jImporter.class);

  /** What the importer accepts; quoted in every rejection. */
  public static final String SUPPORTED = "ConvolutionLayer, DepthwiseConvolution2D, SeparableConvolution2D "
      + "(ConvolutionMode Same/Truncate/Strict, NCHW), DenseLayer, OutputLayer, BatchNormalization (after a conv/dense "
      + "with identity activation, folded), SubsamplingLayer (MAX/AVG), GlobalPoolingLayer (AVG/MAX), ActivationLayer, "
      + "DropoutLayer (identity), ZeroPaddingLayer (NCHW), Upsampling2D (NCHW), ElementWiseVertex(Add, 2 inputs), "
      + "MergeVertex (channel axis); activations identity, relu, relu6, leakyrelu, tanh, sigmoid, softmax; "
      + "preprocessors FeedForwardToCnnPreProcessor (network input) and CnnToFeedForwardPreProcessor (NCHW, before a "
      + "dense layer) only";

  private Dl4jImporter() {}

  /** An input shape given explicitly, HWC (channels last), e.g. {@code new int[] {28, 28, 1}}; or {@code [F]}. */
  public static Graph importModel(Model model, int[] inputShapeOrNull) {
    if (model instanceof MultiLayerNetwork mln) {
      return importNetwork(mln, inputShapeOrNull);
    }
    if (model instanceof ComputationGraph cg) {
      return importGraph(cg, inputShapeOrNull);
    }
    throw new IllegalArgumentException("Unsupported DL4J model type " + model.getClass().getName()
        + "; expected MultiLayerNetwork or ComputationGraph");
  }

  /** Restores a ModelSerializer zip, MultiLayerNetwork or ComputationGraph (told apart by its configuration). */
  public static Model load(Path zip) throws IOException {
    boolean graph;
    try (ZipFile zf = new ZipFile(zip.toFile())) {
      ZipEntry conf = zf.getEntry("configuration.json");
      if (conf == null) {
        throw new IOException("Not a DL4J ModelSerializer zip (no configuration.json): " + zip);
      }
      try (InputStream in = zf.getInputStream(conf)) {
        String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        graph = json.contains("\"vertices\"") && json.contains("\"networkInputs\"");
      }
    }
    return graph ? ModelSerializer.restoreComputationGraph(zip.toFile())
        : ModelSerializer.restoreMultiLayerNetwork(zip.toFile());
  }

  /**
   * {@link #load(byte[])} for a model a user named: an unreadable zip is bad input, refused naming {@code where}.
   *
   * @throws IllegalArgumentException if the bytes are not a readable ModelSerializer zip
   */
  public static Model load(byte[] zip, String where) {
    try {
      return load(zip);
    } catch (IOException e) {
      throw new IllegalArgumentException("model " + where + " is not a readable DL4J ModelSerializer zip: "
          + e.getMessage(), e);
    }
  }

  /** {@link #load(Path)} for a zip held in memory (e.g. read through a Hadoop file system). */
  public static Model load(byte[] zip) throws IOException {
    String json = null;
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
        if (e.getName().equals("configuration.json")) {
          json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
          break;
        }
      }
    }
    if (json == null) {
      throw new IOException("Not a DL4J ModelSerializer zip (no configuration.json)");
    }
    boolean graph = json.contains("\"vertices\"") && json.contains("\"networkInputs\"");
    return graph ? ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(zip), true)
        : ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(zip), true);
  }

  /**
   * The input shape (HWC or [F]) SparkQuant recorded in the zip when it trained the model ({@link ModelMetadata}),
   * or null for a model that carries none; pass it to {@link #importModel} when no shape is given explicitly.
   */
  public static int[] recordedInputShape(byte[] zip) {
    return ModelMetadata.read(zip).map(ModelMetadata::inputShape).orElse(null);
  }

  public static Graph importNetwork(MultiLayerNetwork net) {
    return importNetwork(net, null);
  }

  public static Graph importNetwork(MultiLayerNetwork net, int[] inputShapeOrNull) {
    int n = net.getnLayers();
    if (n == 0) {
      throw new IllegalArgumentException("MultiLayerNetwork has no layers");
    }
    Builder b = new Builder("network");
    Layer first = net.getLayerWiseConfigurations().getConf(0).getLayer();
    b.startInput("input", Dl4jSource.networkInput("input"),
        net.getLayerWiseConfigurations().getInputPreProcess(0), first, inputShapeOrNull, "layer 0");
    String prev = "input";
    b.consumers.put("input", 1);
    for (int i = 0; i < n; i++) {
      b.consumers.put(key(i), i == n - 1 ? 0 : 1);
    }
    for (int i = 0; i < n; i++) {
      Layer conf = net.getLayerWiseConfigurations().getConf(i).getLayer();
      String layerName = conf.getLayerName() != null ? conf.getLayerName() : "layer" + i;
      LayerRef ref = new LayerRef(key(i), i, layerName, conf, net.getLayer(i).paramTable(),
          i == 0 ? null : net.getLayerWiseConfigurations().getInputPreProcess(i), Dl4jSource.mlnLayer(i));
      prev = b.addLayer(ref, List.of(prev));
    }
    return b.build(prev);
  }

  public static Graph importGraph(ComputationGraph cg) {
    return importGraph(cg, null);
  }

  public static Graph importGraph(ComputationGraph cg, int[] inputShapeOrNull) {
    ComputationGraphConfiguration conf = cg.getConfiguration();
    if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
      throw new UnsupportedModelException("ComputationGraph must have exactly one input and one output, got inputs "
          + conf.getNetworkInputs() + " and outputs " + conf.getNetworkOutputs());
    }
    String inputName = conf.getNetworkInputs().get(0);
    Map<String, List<String>> vertexInputs = conf.getVertexInputs();
    Builder b = new Builder("graph");
    for (List<String> ins : vertexInputs.values()) {
      for (String in : ins) {
        b.consumers.merge(in, 1, Integer::sum);
      }
    }
    Map<String, String> irOf = new HashMap<>();
    List<String> order = cg.getConfiguration().getTopologicalOrderStr();
    String firstConsumer = order.stream().filter(v -> vertexInputs.getOrDefault(v, List.of()).contains(inputName))
        .findFirst().orElseThrow(() -> new UnsupportedModelException("no vertex reads the input '" + inputName + "'"));
    GraphVertex firstVertex = conf.getVertices().get(firstConsumer);
    Layer firstLayer = firstVertex instanceof LayerVertex lv ? lv.getLayerConf().getLayer() : null;
    InputPreProcessor firstPre = firstVertex instanceof LayerVertex lv ? lv.getPreProcessor() : null;
    String in = b.startInput(sanitize(inputName), Dl4jSource.networkInput(inputName), firstPre, firstLayer,
        inputShapeOrNull, "vertex '" + firstConsumer + "'");
    irOf.put(inputName, in);
    int index = 0;
    for (String v : order) {
      if (v.equals(inputName)) {
        continue;
      }
      GraphVertex gv = conf.getVertices().get(v);
      List<String> ins = new ArrayList<>();
      for (String i : vertexInputs.getOrDefault(v, List.of())) {
        ins.add(irOf.get(i));
      }
      if (gv instanceof LayerVertex lv) {
        Layer layer = lv.getLayerConf().getLayer();
        LayerRef ref = new LayerRef(v, index, v, layer, cg.getLayer(v).paramTable(),
            v.equals(firstConsumer) ? null : lv.getPreProcessor(), Dl4jSource.cgVertex(v));
        irOf.put(v, b.addLayer(ref, ins));
      } else if (gv instanceof ElementWiseVertex ew && ew.getOp() == ElementWiseVertex.Op.Add && ins.size() == 2) {
        irOf.put(v, b.addAdd(v, index, ins.get(0), ins.get(1), Dl4jSource.cgVertex(v)));
      } else if (gv instanceof MergeVertex mv) {
        irOf.put(v, b.addConcatenation(v, index, ins, mv.getMergeAxis(), Dl4jSource.cgVertex(v)));
      } else {
        throw new UnsupportedModelException("vertex '" + v + "' (index " + index + ", "
            + gv.getClass().getSimpleName() + (gv instanceof ElementWiseVertex ew ? " " + ew.getOp() + " with "
            + ins.size() + " inputs" : "") + ") is not supported; supported: " + SUPPORTED);
      }
      index++;
    }
    return b.build(irOf.get(conf.getNetworkOutputs().get(0)));
  }

  /** The model does not record its input shape (InputType.convolutional): the caller must give it. */
  public static final class InputShapeRequiredException extends IllegalArgumentException {
    InputShapeRequiredException(String message) {
      super(message);
    }
  }

  private static String key(int layerIndex) {
    return "#" + layerIndex;
  }

  static String sanitize(String s) {
    return s.replaceAll("[^A-Za-z0-9_.\\-/]", "_");
  }

  /** One DL4J layer to import: its key for consumer counting, index, name, config and parameters. */
  private record LayerRef(String key, int index, String name, Layer conf, Map<String, INDArray> params,
      InputPreProcessor preProcessor, Dl4jSource source) {
    String describe() {
      return "layer " + index + " '" + name + "' (" + conf.getClass().getSimpleName() + ")";
    }

    UnsupportedModelException reject(String what) {
      return new UnsupportedModelException(describe() + ": " + what + "; supported: " + SUPPORTED);
    }

    INDArray param(String paramKey) {
      INDArray p = params.get(paramKey);
      if (p == null) {
        throw reject("missing parameter '" + paramKey + "' (has " + params.keySet() + ")");
      }
      return p;
    }
  }

  /** Mutable state while importing; produces the immutable Graph. */
  private static final class Builder {
    final String graphName;
    final Map<String, GraphTensor> tensors = new LinkedHashMap<>();
    final List<Node> nodes = new ArrayList<>();
    /** DL4J vertex/layer key -> number of consumers in the DL4J model. */
    final Map<String, Integer> consumers = new HashMap<>();
    /** IR tensor -> the DL4J key whose activation it currently equals (after folds). */
    final Map<String, String> dl4jKeyOf = new HashMap<>();
    GraphTensor input;
    Dl4jInputLayout inputLayout;

    Builder(String graphName) {
      this.graphName = graphName;
    }

    String startInput(String name, Dl4jSource source, InputPreProcessor firstPre, Layer firstLayer,
        int[] explicitShape, String where) {
      int[] shape;
      if (firstPre != null && firstPre.getClass() == FeedForwardToCnnPreProcessor.class) {
        FeedForwardToCnnPreProcessor ff = (FeedForwardToCnnPreProcessor) firstPre;
        shape = new int[] {1, (int) ff.getInputHeight(), (int) ff.getInputWidth(), (int) ff.getNumChannels()};
        inputLayout = Dl4jInputLayout.FLAT_CHW;
        if (explicitShape != null && !Arrays.equals(Arrays.copyOf(explicitShape, 3),
            new int[] {shape[1], shape[2], shape[3]})) {
          throw new IllegalArgumentException("explicit input shape " + Arrays.toString(explicitShape)
              + " disagrees with the model's convolutionalFlat input " + Arrays.toString(shape) + " (NHWC)");
        }
      } else if (firstPre != null) {
        throw new UnsupportedModelException(where + ": input preprocessor " + firstPre.getClass().getSimpleName()
            + " is not supported; supported: FeedForwardToCnnPreProcessor (InputType.convolutionalFlat) or none");
      } else if (firstLayer instanceof org.deeplearning4j.nn.conf.layers.FeedForwardLayer ffl && ffl.getNIn() > 0
          && !(firstLayer instanceof ConvolutionLayer)) {
        // A dense first layer takes rows of nIn values whatever item shape was recorded (train --preset mlp records
        // H,W,C): DL4J's dense layer refuses a rank-4 input, and the rows are flattened as stored (HWC order).
        if (explicitShape != null && Arrays.stream(explicitShape).asLongStream().reduce(1, (a, b) -> a * b)
            != ffl.getNIn()) {
          throw new IllegalArgumentException(where + ": input shape " + Arrays.toString(explicitShape) + " holds "
              + Arrays.stream(explicitShape).asLongStream().reduce(1, (a, b) -> a * b) + " values; the first layer"
              + " takes " + ffl.getNIn());
        }
        shape = new int[] {1, (int) ffl.getNIn()};
        inputLayout = Dl4jInputLayout.FEED_FORWARD;
      } else if (firstLayer instanceof ConvolutionLayer || firstLayer instanceof SubsamplingLayer
          || (explicitShape != null && explicitShape.length == 3)) {
        if (explicitShape == null || explicitShape.length != 3) {
          throw new InputShapeRequiredException(where + " is convolutional and the model does not record its input "
              + "height and width: give the input shape explicitly as H,W,C (e.g. 28,28,1)");
        }
        shape = new int[] {1, explicitShape[0], explicitShape[1], explicitShape[2]};
        inputLayout = Dl4jInputLayout.NCHW;
      } else if (explicitShape != null && explicitShape.length == 1) {
        shape = new int[] {1, explicitShape[0]};
        inputLayout = Dl4jInputLayout.FEED_FORWARD;
      } else {
        throw new InputShapeRequiredException(where + ": cannot tell the input shape from the model; give it explicitly"
            + " as H,W,C or F");
      }
      input = new GraphTensor(name, shape, null, source);
      tensors.put(name, input);
      dl4jKeyOf.put(name, source.vertexName() != null ? source.vertexName() : "input");
      return name;
    }

    Graph build(String output) {
      List<GraphTensor> rest = new ArrayList<>(tensors.values());
      rest.remove(input);
      Graph g = Graph.of(graphName, input, rest, nodes, output, inputLayout);
      LOG.debug("Imported {}", g.describe());
      return g;
    }

    String unique(String base) {
      String n = sanitize(base);
      String candidate = n;
      for (int i = 1; tensors.containsKey(candidate); i++) {
        candidate = n + "_" + i;
      }
      return candidate;
    }

    GraphTensor tensor(String name) {
      return tensors.get(name);
    }

    String addNode(Node node, int[] shape, Dl4jSource source, String dl4jKey) {
      nodes.add(node);
      tensors.put(node.output(), new GraphTensor(node.output(), shape, node.name(), source));
      if (dl4jKey != null) {
        dl4jKeyOf.put(node.output(), dl4jKey);
      }
      return node.output();
    }

    int producerIndex(String tensorName) {
      String p = tensors.get(tensorName).producer();
      for (int i = nodes.size() - 1; i >= 0; i--) {
        if (nodes.get(i).name().equals(p)) {
          return i;
        }
      }
      return -1;
    }

    void setSource(String tensorName, Dl4jSource source, String dl4jKey) {
      GraphTensor t = tensors.get(tensorName);
      tensors.put(tensorName, new GraphTensor(t.name(), t.shape(), t.producer(), source));
      dl4jKeyOf.put(tensorName, dl4jKey);
    }

    /** True if the tensor's only DL4J consumer is the layer being imported (so it may be folded into). */
    boolean singleConsumer(String tensorName) {
      String k = dl4jKeyOf.get(tensorName);
      return k != null && consumers.getOrDefault(k, 0) == 1;
    }

    String addLayer(LayerRef ref, List<String> ins) {
      Layer conf = ref.conf();
      if (ins.size() != 1) {
        throw ref.reject("expected one input, got " + ins.size());
      }
      String in = ins.get(0);
      boolean dense = conf instanceof DenseLayer || conf.getClass() == OutputLayer.class;
      InputPreProcessor pre = ref.preProcessor();
      // Subclasses are refused too: Keras import's TensorFlowCnnToFeedForwardPreProcessor extends
      // CnnToFeedForwardPreProcessor but flattens in NHWC order, which would silently permute the dense rows.
      if (pre != null && !(dense && pre.getClass() == CnnToFeedForwardPreProcessor.class)) {
        throw ref.reject("input preprocessor " + pre.getClass().getName() + " is not supported");
      }
      if (conf instanceof SeparableConvolution2D sep) {
        return addSeparable(ref, sep, in);
      }
      if (conf instanceof DepthwiseConvolution2D dw) {
        return addDepthwise(ref, dw, in);
      }
      if (conf.getClass() == ConvolutionLayer.class) {
        return addConv(ref, (ConvolutionLayer) conf, in);
      }
      if (conf instanceof DenseLayer || conf.getClass() == OutputLayer.class) {
        return addDense(ref, (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) conf, in);
      }
      if (conf instanceof BatchNormalization bn) {
        return foldBatchNorm(ref, bn, in);
      }
      if (conf.getClass() == SubsamplingLayer.class) {
        return addPool(ref, (SubsamplingLayer) conf, in);
      }
      if (conf instanceof GlobalPoolingLayer gp) {
        return addGlobalPool(ref, gp, in);
      }
      if (conf instanceof ActivationLayer act) {
        return applyActivation(ref, act.getActivationFn(), in, true);
      }
      if (conf instanceof DropoutLayer) {
        // Dropout acts only in training; at inference the layer passes its input through.
        return applyActivation(ref, new ActivationIdentity(), in, true);
      }
      if (conf instanceof ZeroPaddingLayer zp) {
        return addPad(ref, zp, in);
      }
      if (conf.getClass() == Upsampling2D.class) {
        return addUpsampling(ref, (Upsampling2D) conf, in);
      }
      throw ref.reject("layer type " + conf.getClass().getSimpleName() + " is not supported");
    }

    // ---- convolution family ----

    private Padding padding(LayerRef ref, ConvolutionMode mode, int[] kernel, int[] stride, int[] pad, int[] dil) {
      if (mode == ConvolutionMode.Same) {
        return Padding.SAME;
      }
      if (mode != ConvolutionMode.Truncate && mode != ConvolutionMode.Strict) {
        throw ref.reject("ConvolutionMode " + mode + " is not supported (Same, Truncate, Strict are)");
      }
      if (pad[0] == 0 && pad[1] == 0) {
        return Padding.VALID;
      }
      // Explicit symmetric padding equals TFLite SAME only for stride 1 and odd effective kernels with pad = (k-1)/2.
      for (int a = 0; a < 2; a++) {
        int eff = (kernel[a] - 1) * dil[a] + 1;
        if (stride[a] != 1 || 2 * pad[a] != eff - 1) {
          throw ref.reject("explicit padding " + Arrays.toString(pad) + " with kernel " + Arrays.toString(kernel)
              + " and stride " + Arrays.toString(stride) + " has no TFLite equivalent; use ConvolutionMode.Same,"
              + " or padding (k-1)/2 with stride 1, or no padding");
        }
      }
      return Padding.SAME;
    }

    private int[] spatialOut(LayerRef ref, GraphTensor in, Padding p, int[] kernel, int[] stride, int[] dil) {
      if (in.rank() != 4) {
        throw ref.reject("expects a 4-D (image) input, got " + in);
      }
      int oh = p.outputSize(in.dim(1), kernel[0], stride[0], dil[0]);
      int ow = p.outputSize(in.dim(2), kernel[1], stride[1], dil[1]);
      if (oh <= 0 || ow <= 0) {
        throw ref.reject("kernel " + Arrays.toString(kernel) + " does not fit input " + in);
      }
      return new int[] {oh, ow};
    }

    private void checkNchw(LayerRef ref, CNN2DFormat format) {
      if (format != null && format != CNN2DFormat.NCHW) {
        throw ref.reject("data format " + format + " is not supported (NCHW is)");
      }
    }

    private String addConv(LayerRef ref, ConvolutionLayer c, String in) {
      checkNchw(ref, c.getCnn2dDataFormat());
      GraphTensor x = tensor(in);
      int[] k = c.getKernelSize(), s = c.getStride(), d = c.getDilation();
      Padding p = padding(ref, c.getConvolutionMode(), k, s, c.getPadding(), d);
      int[] hw = spatialOut(ref, x, p, k, s, d);
      INDArray w = ref.param("W"); // [out, in, kH, kW]
      int outC = (int) w.size(0);
      if (w.rank() != 4 || w.size(1) != x.dim(3)) {
        throw ref.reject("weights of shape " + Arrays.toString(w.shape()) + " do not match input " + x);
      }
      ConstTensor filter = new ConstTensor(new int[] {outC, k[0], k[1], (int) w.size(1)},
          floats(w.permute(0, 2, 3, 1)));
      ConstTensor bias = c.hasBias() ? ConstTensor.vector(floats(ref.param("b"))) : zeros(outC);
      String name = unique(ref.name());
      Node.Conv2D node = new Node.Conv2D(name, in, name, filter, bias, s[0], s[1], d[0], d[1], p,
          FusedActivation.NONE, ref.describe());
      addNode(node, new int[] {1, hw[0], hw[1], outC}, Dl4jSource.derived(), null);
      return applyActivation(ref, c.getActivationFn(), name, false);
    }

    private String addDepthwise(LayerRef ref, DepthwiseConvolution2D c, String in) {
      checkNchw(ref, c.getCnn2dDataFormat());
      GraphTensor x = tensor(in);
      int[] k = c.getKernelSize(), s = c.getStride(), d = c.getDilation();
      Padding p = padding(ref, c.getConvolutionMode(), k, s, c.getPadding(), d);
      int[] hw = spatialOut(ref, x, p, k, s, d);
      int m = c.getDepthMultiplier();
      INDArray w = ref.param("W"); // [kH, kW, in, m]
      int inC = x.dim(3);
      if (w.rank() != 4 || w.size(2) != inC || w.size(3) != m) {
        throw ref.reject("depthwise weights of shape " + Arrays.toString(w.shape()) + " do not match input " + x
            + " and depth multiplier " + m);
      }
      // [kH, kW, in, m] row-major is TFLite's [1, kH, kW, in * m] with output channel c * m + j.
      ConstTensor filter = new ConstTensor(new int[] {1, k[0], k[1], inC * m}, floats(w));
      ConstTensor bias = c.hasBias() ? ConstTensor.vector(floats(ref.param("b"))) : zeros(inC * m);
      String name = unique(ref.name());
      Node.DepthwiseConv2D node = new Node.DepthwiseConv2D(name, in, name, filter, bias, m, s[0], s[1], d[0], d[1],
          p, FusedActivation.NONE, ref.describe());
      addNode(node, new int[] {1, hw[0], hw[1], inC * m}, Dl4jSource.derived(), null);
      return applyActivation(ref, c.getActivationFn(), name, false);
    }

    private String addSeparable(LayerRef ref, SeparableConvolution2D c, String in) {
      checkNchw(ref, c.getCnn2dDataFormat());
      GraphTensor x = tensor(in);
      int[] k = c.getKernelSize(), s = c.getStride(), d = c.getDilation();
      Padding p = padding(ref, c.getConvolutionMode(), k, s, c.getPadding(), d);
      int[] hw = spatialOut(ref, x, p, k, s, d);
      int m = c.getDepthMultiplier();
      int inC = x.dim(3);
      INDArray dw = ref.param("W"); // [m, in, kH, kW]
      INDArray pw = ref.param("pW"); // [out, in * m, 1, 1]
      if (dw.rank() != 4 || dw.size(0) != m || dw.size(1) != inC || pw.rank() != 4 || pw.size(1) != (long) inC * m) {
        throw ref.reject("separable weights " + Arrays.toString(dw.shape()) + " / " + Arrays.toString(pw.shape())
            + " do not match input " + x + " and depth multiplier " + m);
      }
      int outC = (int) pw.size(0);
      ConstTensor dwFilter = new ConstTensor(new int[] {1, k[0], k[1], inC * m}, floats(dw.permute(2, 3, 1, 0)));
      String dwName = unique(ref.name() + "_depthwise");
      Node.DepthwiseConv2D dwNode = new Node.DepthwiseConv2D(dwName, in, dwName, dwFilter, zeros(inC * m), m, s[0],
          s[1], d[0], d[1], p, FusedActivation.NONE, ref.describe() + " depthwise stage");
      addNode(dwNode, new int[] {1, hw[0], hw[1], inC * m}, Dl4jSource.derived(), null);
      ConstTensor pwFilter = new ConstTensor(new int[] {outC, 1, 1, inC * m}, floats(pw.permute(0, 2, 3, 1)));
      ConstTensor bias = c.hasBias() ? ConstTensor.vector(floats(ref.param("b"))) : zeros(outC);
      String name = unique(ref.name());
      Node.Conv2D pwNode = new Node.Conv2D(name, dwName, name, pwFilter, bias, 1, 1, 1, 1, Padding.VALID,
          FusedActivation.NONE, ref.describe() + " pointwise stage");
      addNode(pwNode, new int[] {1, hw[0], hw[1], outC}, Dl4jSource.derived(), null);
      return applyActivation(ref, c.getActivationFn(), name, false);
    }

    // ---- dense ----

    private String addDense(LayerRef ref, org.deeplearning4j.nn.conf.layers.FeedForwardLayer f, String in) {
      GraphTensor x = tensor(in);
      INDArray w = ref.param("W"); // [in, out]
      int nIn = (int) w.size(0), nOut = (int) w.size(1);
      float[] wt; // [out, in], in NHWC flatten order
      if (x.rank() == 4) {
        int h = x.dim(1), wd = x.dim(2), c = x.dim(3);
        if (ref.preProcessor() != null && !(ref.preProcessor() instanceof CnnToFeedForwardPreProcessor)) {
          throw ref.reject("input preprocessor " + ref.preProcessor().getClass().getSimpleName()
              + " is not supported (CnnToFeedForwardPreProcessor is)");
        }
        if (ref.preProcessor() instanceof CnnToFeedForwardPreProcessor cff && cff.getFormat() != null
            && cff.getFormat() != CNN2DFormat.NCHW) {
          throw ref.reject("CnnToFeedForwardPreProcessor format " + cff.getFormat() + " is not supported (NCHW is)");
        }
        if (nIn != h * wd * c) {
          throw ref.reject("nIn " + nIn + " does not match the flattened input " + x);
        }
        String flatName = unique(ref.name() + "_flatten");
        addNode(new Node.Reshape(flatName, in, flatName, new int[] {1, nIn}, ref.describe() + " flatten"),
            new int[] {1, nIn}, Dl4jSource.derived(), null);
        in = flatName;
        // DL4J flattens NCHW: row c*H*W + y*W + x; the NHWC flatten puts that value at (y*W + x)*C + c.
        float[] src = floats(w);
        wt = new float[nOut * nIn];
        for (int ch = 0; ch < c; ch++) {
          for (int yy = 0; yy < h; yy++) {
            for (int xx = 0; xx < wd; xx++) {
              int dl4jRow = (ch * h + yy) * wd + xx;
              int nhwcRow = (yy * wd + xx) * c + ch;
              for (int o = 0; o < nOut; o++) {
                wt[o * nIn + nhwcRow] = src[dl4jRow * nOut + o];
              }
            }
          }
        }
      } else {
        if (x.rank() != 2 || x.dim(1) != nIn) {
          throw ref.reject("nIn " + nIn + " does not match input " + x);
        }
        if (ref.preProcessor() != null) {
          throw ref.reject("input preprocessor " + ref.preProcessor().getClass().getSimpleName()
              + " on a 2-D input is not supported");
        }
        wt = floats(w.transpose());
      }
      boolean hasBias = f instanceof DenseLayer dl ? dl.hasBias() : ((OutputLayer) f).hasBias();
      ConstTensor bias = hasBias ? ConstTensor.vector(floats(ref.param("b"))) : zeros(nOut);
      String name = unique(ref.name());
      Node.FullyConnected node = new Node.FullyConnected(name, in, name, new ConstTensor(new int[] {nOut, nIn}, wt),
          bias, FusedActivation.NONE, ref.describe());
      addNode(node, new int[] {1, nOut}, Dl4jSource.derived(), null);
      return applyActivation(ref, ((BaseLayer) f).getActivationFn(), name, false);
    }

    // ---- batch norm folding ----

    private String foldBatchNorm(LayerRef ref, BatchNormalization bn, String in) {
      checkNchw(ref, bn.getCnn2DFormat());
      int pi = producerIndex(in);
      Node producer = pi < 0 ? null : nodes.get(pi);
      boolean foldable = (producer instanceof Node.Conv2D c && c.activation() == FusedActivation.NONE)
          || (producer instanceof Node.DepthwiseConv2D d && d.activation() == FusedActivation.NONE)
          || (producer instanceof Node.FullyConnected f && f.activation() == FusedActivation.NONE);
      if (!foldable || !singleConsumer(in)) {
        throw ref.reject("BatchNormalization can only be folded into a directly preceding ConvolutionLayer, "
            + "DepthwiseConvolution2D, SeparableConvolution2D or Dense layer with identity activation and no other "
            + "consumer; its input '" + in + "' comes from "
            + (producer == null ? "the network input" : producer.origin()));
      }
      int channels = tensor(in).dim(tensor(in).rank() - 1);
      double eps = bn.getEps();
      double[] gamma = new double[channels], beta = new double[channels];
      if (bn.isLockGammaBeta()) {
        // DL4J applies the locked gamma/beta only when both differ from 1 and 0 (BatchNormalization.preOutput).
        boolean apply = bn.getGamma() != 1.0 && bn.getBeta() != 0.0;
        Arrays.fill(gamma, apply ? bn.getGamma() : 1.0);
        Arrays.fill(beta, apply ? bn.getBeta() : 0.0);
      } else {
        gamma = doubles(ref.param(BatchNormalizationParamInitializer.GAMMA));
        beta = doubles(ref.param(BatchNormalizationParamInitializer.BETA));
      }
      double[] mean = doubles(ref.param(BatchNormalizationParamInitializer.GLOBAL_MEAN));
      double[] var;
      if (bn.isUseLogStd()) {
        double[] log10Std = doubles(ref.param(BatchNormalizationParamInitializer.GLOBAL_LOG_STD));
        var = new double[channels];
        for (int i = 0; i < channels; i++) {
          double std = Math.pow(10.0, log10Std[i]);
          var[i] = std * std; // DL4J: var = (10^log10std)^2, then std = sqrt(var + eps) like the other form
        }
      } else {
        var = doubles(ref.param(BatchNormalizationParamInitializer.GLOBAL_VAR));
      }
      if (gamma.length != channels || mean.length != channels || var.length != channels || beta.length != channels) {
        throw ref.reject("BatchNormalization has " + mean.length + " channels but its input " + tensor(in)
            + " has " + channels);
      }
      // y = gamma * (x - mean) / sqrt(var + eps) + beta with x = W*in + b:  W' = W * s, b' = (b - mean) * s + beta.
      double[] scale = new double[channels];
      double[] shift = new double[channels];
      for (int c = 0; c < channels; c++) {
        scale[c] = gamma[c] / Math.sqrt(var[c] + eps);
        shift[c] = beta[c] - mean[c] * scale[c];
      }
      String origin = producer.origin() + " + " + ref.describe();
      Node folded;
      if (producer instanceof Node.Conv2D c) {
        folded = new Node.Conv2D(c.name(), c.input(), c.output(), scaleAlong(c.filter(), 0, scale),
            foldBias(c.bias(), scale, shift), c.strideH(), c.strideW(), c.dilationH(), c.dilationW(), c.padding(),
            c.activation(), origin);
      } else if (producer instanceof Node.DepthwiseConv2D d) {
        folded = new Node.DepthwiseConv2D(d.name(), d.input(), d.output(), scaleAlong(d.filter(), 3, scale),
            foldBias(d.bias(), scale, shift), d.depthMultiplier(), d.strideH(), d.strideW(), d.dilationH(),
            d.dilationW(), d.padding(), d.activation(), origin);
      } else {
        Node.FullyConnected f = (Node.FullyConnected) producer;
        folded = new Node.FullyConnected(f.name(), f.input(), f.output(), scaleAlong(f.weights(), 0, scale),
            foldBias(f.bias(), scale, shift), f.activation(), origin);
      }
      nodes.set(pi, folded);
      // DL4J's BatchNormalization does not apply its activation function (activate() returns preOutput()).
      setSource(in, ref.source(), ref.key());
      return in;
    }

    private static ConstTensor scaleAlong(ConstTensor t, int axis, double[] scale) {
      int[] shape = t.shape();
      int inner = 1;
      for (int i = axis + 1; i < shape.length; i++) {
        inner *= shape[i];
      }
      int n = shape[axis];
      float[] src = t.data();
      float[] dst = new float[src.length];
      for (int i = 0; i < src.length; i++) {
        int c = (i / inner) % n;
        dst[i] = (float) (src[i] * scale[c]);
      }
      return new ConstTensor(shape, dst);
    }

    private static ConstTensor foldBias(ConstTensor bias, double[] scale, double[] shift) {
      float[] b = bias.data();
      float[] out = new float[b.length];
      for (int c = 0; c < b.length; c++) {
        out[c] = (float) (b[c] * scale[c] + shift[c]);
      }
      return ConstTensor.vector(out);
    }

    // ---- pooling ----

    private String addPool(LayerRef ref, SubsamplingLayer sl, String in) {
      checkNchw(ref, sl.getCnn2dDataFormat());
      GraphTensor x = tensor(in);
      int[] k = sl.getKernelSize(), s = sl.getStride(), pad = sl.getPadding(), d = sl.getDilation();
      if (d != null && (d[0] != 1 || d[1] != 1)) {
        throw ref.reject("pooling dilation " + Arrays.toString(d) + " is not supported (1, 1 is)");
      }
      Node.PoolKind kind = switch (sl.getPoolingType()) {
        case MAX -> Node.PoolKind.MAX;
        case AVG -> Node.PoolKind.AVG;
        default -> throw ref.reject("pooling type " + sl.getPoolingType() + " is not supported (MAX, AVG are)");
      };
      int[] one = {1, 1};
      Padding p;
      if (sl.getConvolutionMode() == ConvolutionMode.Same) {
        p = Padding.SAME;
      } else if ((sl.getConvolutionMode() == ConvolutionMode.Truncate
          || sl.getConvolutionMode() == ConvolutionMode.Strict) && pad[0] == 0 && pad[1] == 0) {
        p = Padding.VALID;
      } else {
        throw ref.reject("ConvolutionMode " + sl.getConvolutionMode() + " with padding " + Arrays.toString(pad)
            + " is not supported for pooling (Same, or Truncate/Strict without padding)");
      }
      int[] hw = spatialOut(ref, x, p, k, s, one);
      if (kind == Node.PoolKind.AVG && p == Padding.SAME && sl.isAvgPoolIncludePadInDivisor()) {
        int totalH = (hw[0] - 1) * s[0] + k[0] - x.dim(1);
        int totalW = (hw[1] - 1) * s[1] + k[1] - x.dim(2);
        if (totalH > 0 || totalW > 0) {
          // TFLite's AVERAGE_POOL_2D divides by the count of real cells only.
          throw ref.reject("average pooling with ConvolutionMode.Same pads this input and DL4J counts padded cells "
              + "(avgPoolIncludePadInDivisor=true) while TFLite does not; set avgPoolIncludePadInDivisor(false)");
        }
      }
      String name = unique(ref.name());
      Node.Pool2D node = new Node.Pool2D(name, in, name, kind, k[0], k[1], s[0], s[1], p, ref.describe());
      return addNode(node, new int[] {1, hw[0], hw[1], x.dim(3)}, ref.source(), ref.key());
    }

    private String addGlobalPool(LayerRef ref, GlobalPoolingLayer gp, String in) {
      GraphTensor x = tensor(in);
      if (x.rank() != 4) {
        throw ref.reject("global pooling expects a 4-D input, got " + x);
      }
      int[] dims = gp.getPoolingDimensions();
      if (dims != null && !Arrays.equals(dims, new int[] {2, 3})) {
        throw ref.reject("pooling dimensions " + Arrays.toString(dims) + " are not supported ([2, 3] is)");
      }
      Node.PoolKind kind = switch (gp.getPoolingType()) {
        case MAX -> Node.PoolKind.MAX;
        case AVG -> Node.PoolKind.AVG;
        default -> throw ref.reject("global pooling type " + gp.getPoolingType() + " is not supported (AVG, MAX are)");
      };
      boolean keepDims = !gp.isCollapseDimensions();
      String name = unique(ref.name());
      Node.GlobalPool node = new Node.GlobalPool(name, in, name, kind, keepDims, ref.describe());
      int[] shape = keepDims ? new int[] {1, 1, 1, x.dim(3)} : new int[] {1, x.dim(3)};
      return addNode(node, shape, ref.source(), ref.key());
    }

    // ---- padding, upsampling, concatenation ----

    private String addPad(LayerRef ref, ZeroPaddingLayer zp, String in) {
      checkNchw(ref, zp.getDataFormat());
      GraphTensor x = tensor(in);
      if (x.rank() != 4) {
        throw ref.reject("zero padding expects a 4-D (image) input, got " + x);
      }
      int[] p = zp.getPadding(); // top, bottom, left, right
      if (p == null || p.length != 4 || Arrays.stream(p).anyMatch(v -> v < 0)) {
        throw ref.reject("padding " + Arrays.toString(p) + " is not supported (4 values >= 0: top, bottom, left, right)");
      }
      String name = unique(ref.name());
      Node.Pad node = new Node.Pad(name, in, name, p[0], p[1], p[2], p[3], ref.describe());
      return addNode(node, new int[] {1, x.dim(1) + p[0] + p[1], x.dim(2) + p[2] + p[3], x.dim(3)}, ref.source(),
          ref.key());
    }

    private String addUpsampling(LayerRef ref, Upsampling2D up, String in) {
      checkNchw(ref, up.getFormat());
      GraphTensor x = tensor(in);
      if (x.rank() != 4) {
        throw ref.reject("upsampling expects a 4-D (image) input, got " + x);
      }
      int[] size = up.getSize();
      if (size == null || size.length != 2 || size[0] < 1 || size[1] < 1) {
        throw ref.reject("upsampling size " + Arrays.toString(size) + " is not supported (2 factors >= 1)");
      }
      String name = unique(ref.name());
      // DL4J's Upsampling2D repeats each pixel size[0] x size[1] times: nearest neighbour with integer scale,
      // align_corners and half_pixel_centers false (floor(y * inH / outH) = floor(y / size[0])).
      Node.ResizeNearest node = new Node.ResizeNearest(name, in, name, size[0], size[1], ref.describe());
      return addNode(node, new int[] {1, x.dim(1) * size[0], x.dim(2) * size[1], x.dim(3)}, ref.source(), ref.key());
    }

    String addConcatenation(String vertexName, int index, List<String> ins, int mergeAxis, Dl4jSource source) {
      String where = "vertex '" + vertexName + "' (index " + index + ", MergeVertex)";
      if (ins.isEmpty()) {
        throw new UnsupportedModelException(where + ": has no inputs; supported: " + SUPPORTED);
      }
      int[] first = tensor(ins.get(0)).shape();
      // DL4J merges along dimension 1: channels of NCHW activations, features of 2-D ones; both are NHWC's last axis.
      if (mergeAxis != 1) {
        throw new UnsupportedModelException(where + ": merge axis " + mergeAxis + " is not supported (1, the channel "
            + "axis, is); supported: " + SUPPORTED);
      }
      int channels = 0;
      for (String i : ins) {
        int[] s = tensor(i).shape();
        if (s.length != first.length || !Arrays.equals(Arrays.copyOf(s, s.length - 1),
            Arrays.copyOf(first, first.length - 1))) {
          throw new UnsupportedModelException(where + ": input shapes " + tensor(ins.get(0)) + " and " + tensor(i)
              + " differ outside the channel axis; supported: " + SUPPORTED);
        }
        channels += s[s.length - 1];
      }
      if (ins.size() == 1) {
        setSource(ins.get(0), source, vertexName);
        return ins.get(0);
      }
      int[] shape = first.clone();
      shape[shape.length - 1] = channels;
      String name = unique(vertexName);
      Node.Concatenation node = new Node.Concatenation(name, ins, name,
          "vertex " + index + " '" + vertexName + "' (MergeVertex)");
      return addNode(node, shape, source, vertexName);
    }

    // ---- add ----

    String addAdd(String vertexName, int index, String left, String right, Dl4jSource source) {
      GraphTensor a = tensor(left), b = tensor(right);
      if (!Arrays.equals(a.shape(), b.shape())) {
        throw new UnsupportedModelException("vertex '" + vertexName + "' (index " + index + ", ElementWiseVertex Add)"
            + ": input shapes differ, " + a + " vs " + b + "; broadcasting is not supported");
      }
      String name = unique(vertexName);
      Node.Add node = new Node.Add(name, left, right, name, FusedActivation.NONE,
          "vertex " + index + " '" + vertexName + "' (ElementWiseVertex Add)");
      return addNode(node, a.shape(), source, vertexName);
    }

    // ---- activations ----

    /**
     * Applies {@code act} to tensor {@code pre}. For a layer's own activation ({@code standalone == false})
     * {@code pre} is the fresh pre-activation output of the layer's node. For an ActivationLayer, fusion into the
     * producer also requires that nothing else in DL4J consumes the producer's activation.
     */
    private String applyActivation(LayerRef ref, IActivation act, String pre, boolean standalone) {
      int pi = producerIndex(pre);
      Node producer = pi < 0 ? null : nodes.get(pi);
      if (act instanceof ActivationIdentity) {
        // The value is unchanged. Relabel the tensor as this layer's activation unless DL4J also reads the
        // earlier activation elsewhere; then this layer is a pure alias of it.
        if (!standalone || singleConsumer(pre)) {
          setSource(pre, ref.source(), ref.key());
        }
        return pre;
      }
      FusedActivation fused = null;
      Node.ActivationKind kind = null;
      if (act instanceof ActivationReLU r) {
        if ((r.getMax() != null && r.getMax() != 0.0) || (r.getThreshold() != null && r.getThreshold() != 0.0)
            || (r.getNegativeSlope() != null && r.getNegativeSlope() != 0.0)) {
          throw ref.reject("relu with max/threshold/negativeSlope " + r.getMax() + "/" + r.getThreshold() + "/"
              + r.getNegativeSlope() + " is not supported (plain relu is)");
        }
        fused = FusedActivation.RELU;
        kind = Node.ActivationKind.RELU;
      } else if (act instanceof ActivationReLU6) {
        fused = FusedActivation.RELU6;
        kind = Node.ActivationKind.RELU6;
      } else if (act instanceof ActivationTanH) {
        kind = Node.ActivationKind.TANH;
      } else if (act instanceof ActivationSigmoid) {
        kind = Node.ActivationKind.LOGISTIC;
      } else if (act instanceof ActivationLReLU lrelu) {
        // TFLite has no fused leaky relu: always a LEAKY_RELU op after the producer.
        overwritten(pre, standalone);
        String name = unique(ref.name() + (standalone ? "" : "_leakyrelu"));
        return addNode(new Node.LeakyRelu(name, pre, name, (float) lrelu.getAlpha(), ref.describe()),
            tensor(pre).shape(), ref.source(), ref.key());
      } else if (act instanceof ActivationSoftmax) {
        if (tensor(pre).rank() != 2) {
          throw ref.reject("softmax on a " + tensor(pre).rank() + "-D tensor is not supported (2-D is)");
        }
        overwritten(pre, standalone);
        String name = unique(ref.name() + (standalone ? "" : "_softmax"));
        return addNode(new Node.Softmax(name, pre, name, 1f, ref.describe()), tensor(pre).shape(), ref.source(),
            ref.key());
      } else {
        throw ref.reject("activation " + act + " is not supported");
      }
      boolean fusable = fused != null && producer != null && (!standalone || singleConsumer(pre))
          && fusedActivationOf(producer) == FusedActivation.NONE;
      if (fusable) {
        String origin = producer.origin() + (standalone ? " + " + ref.describe() : "");
        Node withAct = withActivation(producer, fused, origin);
        nodes.set(pi, withAct);
        setSource(pre, ref.source(), ref.key());
        return pre;
      }
      overwritten(pre, standalone);
      String name = unique(ref.name() + (standalone ? "" : "_" + kind.name().toLowerCase()));
      return addNode(new Node.Activation(name, pre, name, kind, ref.describe()), tensor(pre).shape(), ref.source(),
          ref.key());
    }

    /**
     * {@code pre} is read by a separate activation op. A layer's own pre-activation is not a DL4J activation at all;
     * an ActivationLayer's input is one, but at inference DL4J applies the activation in place on it (ActivationLayer
     * leverages its input instead of copying it), so the value feedForward returns for it is the activated one. Either
     * way the tensor is observed by recomputing it from its producer's inputs ({@link Dl4jSource.Kind#DERIVED}).
     */
    private void overwritten(String pre, boolean standalone) {
      if (!standalone) {
        setSource(pre, Dl4jSource.derived(), null);
      } else if (tensor(pre).source().kind() == Dl4jSource.Kind.ACTIVATION) {
        setSource(pre, Dl4jSource.derived(), dl4jKeyOf.get(pre));
      }
    }

    /** The fused activation of a node that can carry one, or null. */
    private static FusedActivation fusedActivationOf(Node n) {
      if (n instanceof Node.Conv2D c) {
        return c.activation();
      } else if (n instanceof Node.DepthwiseConv2D d) {
        return d.activation();
      } else if (n instanceof Node.FullyConnected f) {
        return f.activation();
      } else if (n instanceof Node.Add a) {
        return a.activation();
      }
      return null;
    }

    private static Node withActivation(Node n, FusedActivation fa, String origin) {
      if (n instanceof Node.Conv2D c) {
        return new Node.Conv2D(c.name(), c.input(), c.output(), c.filter(), c.bias(), c.strideH(), c.strideW(),
            c.dilationH(), c.dilationW(), c.padding(), fa, origin);
      } else if (n instanceof Node.DepthwiseConv2D d) {
        return new Node.DepthwiseConv2D(d.name(), d.input(), d.output(), d.filter(), d.bias(), d.depthMultiplier(),
            d.strideH(), d.strideW(), d.dilationH(), d.dilationW(), d.padding(), fa, origin);
      } else if (n instanceof Node.FullyConnected f) {
        return new Node.FullyConnected(f.name(), f.input(), f.output(), f.weights(), f.bias(), fa, origin);
      }
      Node.Add a = (Node.Add) n;
      return new Node.Add(a.name(), a.left(), a.right(), a.output(), fa, origin);
    }
  }

  // ---- array helpers ----

  static float[] floats(INDArray a) {
    return a.dup('c').castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).reshape(a.length()).toFloatVector();
  }

  static double[] doubles(INDArray a) {
    return a.dup('c').castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).reshape(a.length()).toDoubleVector();
  }

  private static ConstTensor zeros(int n) {
    return ConstTensor.vector(new float[n]);
  }
}
