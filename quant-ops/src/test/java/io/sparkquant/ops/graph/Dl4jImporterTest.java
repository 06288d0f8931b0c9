package io.sparkquant.ops.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.kernels.FusedActivation;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The importer against DL4J itself: the IR's float evaluation must reproduce every DL4J activation it maps. */
class Dl4jImporterTest {

  /** float32 accumulation order differs between ND4J and the reference loops. */
  static final double REL_TOLERANCE = 1e-4;

  @Test
  void cnnChainMatchesDl4jOnEveryTensor() {
    MultiLayerNetwork net = TestModels.cnnChain(7);
    Graph g = Dl4jImporter.importNetwork(net);
    assertEquals(Dl4jInputLayout.FLAT_CHW, g.dl4jInputLayout());
    List<String> kinds = g.nodes().stream().map(n -> n.getClass().getSimpleName()).toList();
    // conv(+bn+relu folded), depthwise, separable = depthwise + 1x1 conv, tanh, 2 pools, flatten, fc, logistic, fc,
    // softmax
    assertEquals(List.of("Conv2D", "DepthwiseConv2D", "DepthwiseConv2D", "Conv2D", "Activation", "Pool2D", "Pool2D",
        "Reshape", "FullyConnected", "Activation", "FullyConnected", "Softmax"), kinds, g.describe());
    assertEquals(FusedActivation.RELU, ((Node.Conv2D) g.nodes().get(0)).activation());
    assertEquals(FusedActivation.RELU6, ((Node.DepthwiseConv2D) g.nodes().get(1)).activation());
    checkAgainstDl4j(g, net, 3);
  }

  @Test
  void mlpWithBatchNormOnDenseMatchesDl4j() {
    MultiLayerNetwork net = TestModels.mlp(11);
    Graph g = Dl4jImporter.importNetwork(net);
    assertEquals(Dl4jInputLayout.FEED_FORWARD, g.dl4jInputLayout());
    assertEquals(FusedActivation.RELU6, ((Node.FullyConnected) g.nodes().get(0)).activation(), g.describe());
    checkAgainstDl4j(g, net, 4);
  }

  @Test
  void residualGraphMatchesDl4j() {
    for (PoolingType pt : new PoolingType[] {PoolingType.AVG, PoolingType.MAX}) {
      var cg = TestModels.residual(5, pt);
      Graph g = Dl4jImporter.importGraph(cg, new int[] {8, 8, 3});
      assertEquals(Dl4jInputLayout.NCHW, g.dl4jInputLayout());
      Node.Add add = g.nodes().stream().filter(n -> n instanceof Node.Add).map(n -> (Node.Add) n).findFirst()
          .orElseThrow();
      assertEquals(FusedActivation.RELU, add.activation(), g.describe());
      checkAgainstDl4j(g, cg, 2);
    }
  }

  @Test
  void samePaddedAveragePoolingMatchesDl4jOnlyWithoutPadInDivisor() {
    MultiLayerNetwork net = TestModels.globalAverage(3, false);
    Graph g = Dl4jImporter.importNetwork(net);
    assertTrue(g.nodes().stream().anyMatch(n -> n instanceof Node.GlobalPool gp && gp.kind() == Node.PoolKind.AVG));
    checkAgainstDl4j(g, net, 2);
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
        () -> Dl4jImporter.importNetwork(TestModels.globalAverage(3, true)));
    assertTrue(e.getMessage().contains("layer 1 'avgpool' (SubsamplingLayer)")
        && e.getMessage().contains("avgPoolIncludePadInDivisor(false)"), e.getMessage());
  }

  @Test
  void loadTellsNetworkFromGraphZips(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path mln = dir.resolve("mln.zip");
    java.nio.file.Path cg = dir.resolve("cg.zip");
    org.deeplearning4j.util.ModelSerializer.writeModel(TestModels.mlp(1), mln.toFile(), false);
    org.deeplearning4j.util.ModelSerializer.writeModel(TestModels.residual(1, PoolingType.AVG), cg.toFile(), false);
    assertTrue(Dl4jImporter.load(mln) instanceof MultiLayerNetwork);
    assertTrue(Dl4jImporter.load(cg) instanceof org.deeplearning4j.nn.graph.ComputationGraph);
  }

  @Test
  void convolutionalGraphWithoutShapeAsksForIt() {
    var cg = TestModels.residual(5, PoolingType.AVG);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Dl4jImporter.importGraph(cg));
    assertTrue(e.getMessage().contains("H,W,C"), e.getMessage());
  }

  @Test
  void unsupportedLayerNamesLayerIndexTypeAndSupportedList() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).list()
        .layer(new LSTM.Builder().name("lstm").nIn(4).nOut(4).build())
        .layer(new OutputLayer.Builder().nIn(4).nOut(2).activation(Activation.SOFTMAX).build())
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
        () -> Dl4jImporter.importNetwork(net, new int[] {4}));
    assertTrue(e.getMessage().startsWith("layer 0 'lstm' (LSTM): layer type LSTM is not supported; supported: "),
        e.getMessage());
    assertTrue(e.getMessage().contains("SeparableConvolution2D"), e.getMessage());
  }

  @Test
  void causalConvolutionModeIsRejected() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).list()
        .layer(new ConvolutionLayer.Builder(3, 3).name("c").nOut(2).convolutionMode(ConvolutionMode.Truncate)
            .padding(1, 1).stride(2, 2).build())
        .layer(new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutionalFlat(6, 6, 1))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
        () -> Dl4jImporter.importNetwork(net));
    assertTrue(e.getMessage().contains("layer 0 'c' (ConvolutionLayer)") && e.getMessage().contains("padding"),
        e.getMessage());
  }

  @Test
  void newLayersChainMatchesDl4j() {
    MultiLayerNetwork net = TestModels.layersChain(13);
    Graph g = Dl4jImporter.importNetwork(net);
    List<String> kinds = g.nodes().stream().map(n -> n.getClass().getSimpleName()).toList();
    // pad, conv + leaky relu, (dropout: no node), upsampling, pool, tanh, leaky relu, conv(relu), global max, fc,
    // softmax
    assertEquals(List.of("Pad", "Conv2D", "LeakyRelu", "ResizeNearest", "Pool2D", "Activation", "LeakyRelu",
        "Conv2D", "GlobalPool", "FullyConnected", "Softmax"), kinds, g.describe());
    Node.Pad pad = (Node.Pad) g.nodes().get(0);
    assertEquals(List.of(1, 2, 2, 0), List.of(pad.top(), pad.bottom(), pad.left(), pad.right()));
    assertEquals(g.input().name(), pad.input(), "PAD reads the network input");
    assertEquals(0.01f, ((Node.LeakyRelu) g.nodes().get(2)).alpha(), 1e-9);
    assertEquals(0.2f, ((Node.LeakyRelu) g.nodes().get(6)).alpha(), 1e-9);
    assertEquals(Node.ActivationKind.TANH, ((Node.Activation) g.nodes().get(5)).kind());
    // the dropout layer's activation is the leaky relu's tensor: DL4J exposes it as layer 2
    assertEquals(Dl4jSource.mlnLayer(2), g.tensor(((Node.LeakyRelu) g.nodes().get(2)).output()).source());
    assertEquals(List.of(1, 20, 18, 4), java.util.Arrays.stream(g.tensor(g.nodes().get(3).output()).shape()).boxed()
        .toList());
    checkAgainstDl4j(g, net, 3);
  }

  @Test
  void mergeVertexAndStandaloneActivationsMatchDl4j() {
    var cg = TestModels.concatGraph(17);
    Graph g = Dl4jImporter.importGraph(cg, new int[] {8, 8, 3});
    List<String> kinds = g.nodes().stream().map(n -> n.getClass().getSimpleName()).toList();
    assertEquals(List.of("Activation", "Conv2D", "Conv2D", "Concatenation", "Conv2D", "Add", "Activation",
        "ResizeNearest", "GlobalPool", "FullyConnected", "Softmax"), kinds, g.describe());
    assertEquals(Node.ActivationKind.RELU6, ((Node.Activation) g.nodes().get(0)).kind(), "RELU6 at the input");
    assertEquals(Node.ActivationKind.LOGISTIC, ((Node.Activation) g.nodes().get(6)).kind(), "LOGISTIC after ADD");
    Node.Concatenation concat = (Node.Concatenation) g.nodes().get(3);
    assertEquals(List.of("a", "b"), concat.inputs());
    assertEquals(5, g.tensor(concat.output()).dim(3));
    checkAgainstDl4j(g, cg, 2);
  }

  /**
   * Keras import's TensorFlowCnnToFeedForwardPreProcessor is a CnnToFeedForwardPreProcessor subclass that flattens in
   * NHWC order (deeplearning4j-modelimport is not on this class path, so a subclass of the same shape stands in).
   */
  @Test
  void keraslikeFlattenPreprocessorIsRefusedNamingLayerIndexAndSupportedSet() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).list()
        .layer(new ConvolutionLayer.Builder(3, 3).name("c").nOut(2).build())
        .layer(new OutputLayer.Builder().name("dense").nOut(2).activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutionalFlat(6, 6, 1))
        .inputPreProcessor(1, new NhwcFlattenPreProcessor(4, 4, 2))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
        () -> Dl4jImporter.importNetwork(net));
    assertTrue(e.getMessage().startsWith("layer 1 'dense' (OutputLayer): input preprocessor "
        + NhwcFlattenPreProcessor.class.getName() + " is not supported; supported: "), e.getMessage());
    assertTrue(e.getMessage().contains("CnnToFeedForwardPreProcessor (NCHW, before a dense layer)"), e.getMessage());
    assertEquals(1, e.getMessage().lines().count());
  }

  /** Flattens NCHW activations in NHWC (channels-last) order, as Keras's flatten does. */
  static final class NhwcFlattenPreProcessor extends org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor {
    NhwcFlattenPreProcessor(long h, long w, long c) {
      super(h, w, c);
    }

    @Override
    public INDArray preProcess(INDArray input, int miniBatchSize,
        org.deeplearning4j.nn.workspace.LayerWorkspaceMgr workspaceMgr) {
      return super.preProcess(input.permute(0, 2, 3, 1).dup('c').reshape('c', input.size(0), input.size(1),
          input.size(2), input.size(3)), miniBatchSize, workspaceMgr);
    }
  }

  @Test
  void mergeOfDenseActivationsConcatenatesFeatures() {
    ComputationGraph cg = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(3).graphBuilder()
        .addInputs("in")
        .addLayer("d1", new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(6).nOut(4)
            .activation(Activation.TANH).build(), "in")
        .addLayer("d2", new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(6).nOut(3)
            .activation(Activation.RELU).build(), "in")
        .addVertex("m", new MergeVertex(), "d1", "d2")
        .addLayer("out", new OutputLayer.Builder().nIn(7).nOut(2).activation(Activation.SOFTMAX).build(), "m")
        .setOutputs("out").build());
    cg.init();
    Graph g = Dl4jImporter.importGraph(cg, new int[] {6});
    Node.Concatenation concat = g.nodes().stream().filter(n -> n instanceof Node.Concatenation)
        .map(n -> (Node.Concatenation) n).findFirst().orElseThrow(() -> new AssertionError(g.describe()));
    assertEquals(List.of(1, 7), java.util.Arrays.stream(g.tensor(concat.output()).shape()).boxed().toList());
    checkAgainstDl4j(g, cg, 3);
  }

  @Test
  void mergeAlongAnotherAxisIsRefused() {
    MergeVertex alongHeight = new MergeVertex();
    alongHeight.setMergeAxis(2);
    ComputationGraph cg = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(1).graphBuilder()
        .addInputs("in")
        .addLayer("a", new ConvolutionLayer.Builder(1, 1).nOut(2).build(), "in")
        .addLayer("b", new ConvolutionLayer.Builder(1, 1).nOut(2).build(), "in")
        .addVertex("m", alongHeight, "a", "b")
        .addLayer("out", new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX).build(), "m")
        .setOutputs("out").setInputTypes(InputType.convolutional(4, 4, 1)).build());
    cg.init();
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
        () -> Dl4jImporter.importGraph(cg, new int[] {4, 4, 1}));
    assertTrue(e.getMessage().startsWith("vertex 'm' (index 2, MergeVertex): merge axis 2 is not supported"),
        e.getMessage());
  }

  /** Every tensor DL4J exposes equals the IR reference evaluation; the final output equals DL4J's output. */
  static void checkAgainstDl4j(Graph g, Model model, int batch) {
    float[] x = TestModels.randomInput(g, batch, 99);
    INDArray dl4jIn = Dl4jActivations.toDl4jInput(g, x, batch);
    Map<String, float[]> ref = FloatReference.run(g, x, batch);
    Map<String, INDArray> acts = Dl4jActivations.collect(g, model, dl4jIn);
    assertEquals(g.tensors().size(), acts.size());
    int compared = 0;
    for (GraphTensor t : g.tensors()) {
      float[] expected = Dl4jActivations.flat(acts.get(t.name()));
      float[] actual = ref.get(t.name());
      assertClose(expected, actual, t.name() + " (" + t.source() + ")");
      if (t.source().kind() != Dl4jSource.Kind.DERIVED) {
        compared++;
      }
    }
    assertTrue(compared >= 3, "too few DL4J-observed tensors: " + compared);
    float[] out = Dl4jActivations.flat(TestModels.dl4jOutput(model, dl4jIn));
    assertClose(out, ref.get(g.output().name()), "network output");
  }

  static void assertClose(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + " length");
    double scale = 1e-6;
    for (float v : expected) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(expected[i] - actual[i]);
      if (err > REL_TOLERANCE * scale) {
        throw new AssertionError(what + ": element " + i + " expected " + expected[i] + " got " + actual[i]
            + " (scale " + scale + ")");
      }
    }
  }
}
