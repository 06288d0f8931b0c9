package io.sparkquant.ops.qat;

import static io.sparkquant.ops.qat.QatTesting.argMax;
import static io.sparkquant.ops.qat.QatTesting.assertHooksOffMatchAndOnChange;
import static io.sparkquant.ops.qat.QatTesting.flat;
import static io.sparkquant.ops.qat.QatTesting.maxAbs;
import static io.sparkquant.ops.qat.QatTesting.maxAbsDiff;
import static io.sparkquant.ops.qat.QatTesting.trainingData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.ExportMode;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.MinMaxRanges;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Dl4jSource;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.GraphTensor;
import io.sparkquant.ops.graph.Node;
import io.sparkquant.ops.graph.TestModels;
import io.sparkquant.ops.graph.UnsupportedModelException;
import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.interp.TensorValue;
import io.sparkquant.ops.numerics.QuantParams;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * QAT of the node types the importer gained after the QAT builder: PAD (ZeroPaddingLayer), LEAKY_RELU, 
 * RESIZE_NEAREST_NEIGHBOR (Upsampling2D), CONCATENATION (MergeVertex, with and without requantized inputs), and
 * DropoutLayer (no node). The reference is the graph's own export run by the bit-exact Java interpreter: float32 with
 * the hooks off, int8 with them on.
 */
class QatNewLayersTest {

  private static final long SEED = 43;
  private static final int SIDE = 8;
  private static final int CHANNELS = 3;
  private static final int CALIBRATION_ROWS = 128;
  private static final int ROWS = 256;
  private static final int TRAIN_STEPS = 8;
  /**
   * Hooks off: DL4J's NCHW float32 network against the interpreter's float32 export, relative to the largest |value|
   * (float32 sums in a different order: a few ulps).
   */
  private static final double FLOAT_TOLERANCE = 1e-6;
  /** One step of the int8 softmax output. */
  private static final float OUTPUT_STEP = 1f / 256f;
  /**
   * Simulation vs int8 interpreter, measured on 256 seeded rows of the three models, untrained and after 8 steps:
   * top-1 256/256, outputs identical on 256/256 rows, and every tensor the network exposes (not overwritten in place)
   * identical, element for element. Before the LEAKY_RELU and QUANTIZE (requantize) hooks ran their int8 kernels it
   * was 118/256 identical rows (within 1 output step) for newLayers, with 2-13% of leaky relu outputs and 11.6% of
   * the requantizing merge's elements one step off. Asserted exactly: there is no margin to leave.
   */
  private static final int MIN_TOP1_OF_256 = 256;
  private static final float MAX_OUTPUT_STEPS = 0;

  private record Case(String name, Model model, Graph graph, ActivationRanges ranges) {}

  private static List<Case> cases;

  @BeforeAll
  static void models() {
    cases = new ArrayList<>();
    add("newLayers", newLayersGraph(SEED), new int[] {SIDE, SIDE, CHANNELS});
    add("layersChain", TestModels.layersChain(SEED), null);
    add("concatGraph", TestModels.concatGraph(SEED), new int[] {SIDE, SIDE, CHANNELS});
  }

  private static void add(String name, Model model, int[] inputShape) {
    randomizeBiases(model, SEED + 7);
    Graph g = Dl4jImporter.importModel(model, inputShape);
    INDArray calib = Dl4jActivations.toDl4jInput(g, TestModels.randomInput(g, CALIBRATION_ROWS, SEED + 1),
        CALIBRATION_ROWS);
    cases.add(new Case(name, model, g, MinMaxRanges.collect(g, model, List.of(calib).iterator())));
  }

  /**
   * ComputationGraph on convolutional(8, 8, 3): ZeroPadding of the input, conv with leaky relu 0.1 (CONV_2D +
   * LEAKY_RELU); a strided conv upsampled x2 (RESIZE_NEAREST_NEIGHBOR) read both by a standalone leaky relu 0.2 and by
   * the merge; MergeVertex of the leaky conv, the upsampled tensor, its leaky relu and the network input itself
   * (CONCATENATION with requantized inputs); ZeroPadding of the merge read by a conv (its kernel reads the merge's
   * parameters through the pad); MergeVertex of that conv and its max pool (inputs with equal parameters: none
   * requantized); global average pooling, Dropout, dense softmax output.
   */
  static ComputationGraph newLayersGraph(long seed) {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).graphBuilder()
        .addInputs("in")
        .addLayer("pad", new ZeroPaddingLayer.Builder(1, 1, 1, 1).build(), "in")
        .addLayer("c1", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(new ActivationLReLU(0.1))
            .convolutionMode(ConvolutionMode.Truncate).build(), "pad")
        .addLayer("c2", new ConvolutionLayer.Builder(3, 3).stride(2, 2).nOut(3).activation(Activation.IDENTITY)
            .convolutionMode(ConvolutionMode.Same).build(), "in")
        .addLayer("up", new Upsampling2D.Builder(2).build(), "c2")
        .addLayer("act", new ActivationLayer.Builder().activation(new ActivationLReLU(0.2)).build(), "up")
        .addVertex("merge1", new MergeVertex(), "c1", "up", "act", "in")
        .addLayer("pad2", new ZeroPaddingLayer.Builder(0, 1, 1, 0).build(), "merge1")
        .addLayer("c3", new ConvolutionLayer.Builder(2, 2).nOut(6).activation(Activation.RELU)
            .convolutionMode(ConvolutionMode.Truncate).build(), "pad2")
        .addLayer("mp", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(3, 3).stride(1, 1)
            .convolutionMode(ConvolutionMode.Same).build(), "c3")
        .addVertex("merge2", new MergeVertex(), "c3", "mp")
        .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "merge2")
        .addLayer("drop", new DropoutLayer.Builder(0.5).build(), "gap")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4)
            .activation(Activation.SOFTMAX).build(), "drop")
        .setOutputs("out")
        .setInputTypes(InputType.convolutional(SIDE, SIDE, CHANNELS))
        .build();
    ComputationGraph cg = new ComputationGraph(conf);
    cg.init();
    return cg;
  }

  @Test
  void newLayersGraphHasEveryNewNodeType() {
    Graph g = cases.get(0).graph();
    for (Class<?> type : List.of(Node.Pad.class, Node.LeakyRelu.class, Node.ResizeNearest.class,
        Node.Concatenation.class)) {
      assertTrue(g.nodes().stream().anyMatch(type::isInstance), type.getSimpleName() + " in " + g.describe());
    }
  }

  @Test
  void hooksDisabledComputesTheFloat32ExportOnTheInterpreter() {
    int batch = 64;
    for (Case c : cases) {
      QatNetwork qat = QatNetwork.build(c.graph(), c.ranges(), QatNetwork.Options.defaults());
      float[] x = TestModels.randomInput(c.graph(), batch, SEED + 2);
      float[] expected = runFloat32(c.graph(), x, batch);
      assertHooksOffMatchAndOnChange(qat, x, batch, expected, FLOAT_TOLERANCE, c.name());
    }
  }

  @Test
  void buildsTrainsAndWritesBack() {
    for (Case c : cases) {
      QatNetwork qat = QatNetwork.build(c.graph(), c.ranges(), QatNetwork.Options.defaults());
      // untrained: the same graph, byte-identical exports, the calibrated ranges read back
      Graph back = qat.writeBack();
      assertEquals(c.graph().describe(), back.describe(), c.name());
      for (ExportOptions o : List.of(ExportOptions.of(ExportMode.FLOAT32),
          ExportOptions.int8(c.ranges(), ExportOptions.IoType.FLOAT))) {
        assertArrayEquals(TfliteWriter.write(TfliteExporter.export(c.graph(), o)),
            TfliteWriter.write(TfliteExporter.export(back, o)), c.name() + " " + o.mode());
      }
      Map<String, float[]> read = qat.ranges().asMap();
      assertEquals(TfliteExporter.tensorsNeedingRanges(c.graph()), List.copyOf(read.keySet()), c.name());
      read.forEach((t, r) -> assertArrayEquals(c.ranges().get(t).orElseThrow(), r, c.name() + " " + t));

      QatNetwork tuning = QatNetwork.build(c.graph(), c.ranges(),
          QatNetwork.Options.defaults().withUpdater(new Adam(0.01)));
      DataSet train = trainingData(c.graph(), tuning, 64, SEED + 3);
      double before = tuning.network().score(train);
      for (int i = 0; i < TRAIN_STEPS; i++) {
        tuning.network().fit(train);
      }
      double after = tuning.network().score(train);
      System.out.println(c.name() + ": loss " + before + " -> " + after + " in " + TRAIN_STEPS + " steps");
      assertTrue(after < before, c.name() + ": loss did not fall, " + before + " -> " + after);
      assertFalse(Arrays.equals(TfliteWriter.write(TfliteExporter.export(c.graph(), ExportOptions.of(
          ExportMode.FLOAT32))), TfliteWriter.write(TfliteExporter.export(tuning.writeBack(), ExportOptions.of(
          ExportMode.FLOAT32)))), c.name() + ": training changed no weight");
    }
  }

  @Test
  void observableGraphSeesTheNewTensorsOfTheNetwork() {
    for (Case c : cases) {
      QatNetwork qat = QatNetwork.build(c.graph(), c.ranges(), QatNetwork.Options.defaults());
      qat.setEnabled(false);
      Graph observable = qat.observableGraph();
      int batch = 32;
      float[] x = TestModels.randomInput(c.graph(), batch, SEED + 8);
      Map<String, INDArray> seen = Dl4jActivations.collect(observable, qat.network(), qat.toDl4jInput(x, batch));
      TfliteModel f32 = TfliteExporter.export(c.graph(), ExportOptions.of(ExportMode.FLOAT32));
      TensorValue[] all = new Interpreter(f32).runAll(TensorValue.ofFloat(withBatch(c.graph().input().shape(),
          batch), x));
      for (GraphTensor t : c.graph().tensors()) {
        float[] expected = all[f32.tensorIndex(t.name())].floats();
        float[] actual = seen.get(t.name()).dup('c').castTo(DataType.FLOAT).reshape(-1).toFloatVector();
        double scale = Math.max(1e-6, maxAbs(expected));
        assertTrue(maxAbsDiff(expected, actual) <= FLOAT_TOLERANCE * scale, c.name() + " tensor '" + t.name()
            + "' observed at " + observable.tensor(t.name()).source() + ": max diff " + maxAbsDiff(expected, actual));
      }
    }
  }

  /**
   * Hooks on, softmax output quantized as deployed, against the int8 export run by the Java interpreter on seeded
   * rows: every tensor the network exposes, in int8 steps of that tensor, and the output.
   */
  @Test
  void simulationAgreesWithTheInt8InterpreterTensorByTensor() {
    for (Case c : cases) {
      QatNetwork qat = QatNetwork.build(c.graph(), c.ranges(), QatNetwork.Options.defaults());
      Agreement a = agreement(qat, c.ranges());
      System.out.println(c.name() + " untrained: " + a);
      assertAgreement(c.name(), a);
      if (c.name().equals("newLayers")) {
        // merge1 requantizes three of its inputs, merge2 none (its inputs share parameters)
        assertEquals(java.util.Set.of("merge1"), a.requantizing(), a.toString());
      }
      QatNetwork tuned = QatNetwork.build(c.graph(), c.ranges(),
          QatNetwork.Options.defaults().withUpdater(new Adam(0.01)));
      DataSet train = trainingData(c.graph(), tuned, 64, SEED + 3);
      for (int i = 0; i < TRAIN_STEPS; i++) {
        tuned.network().fit(train);
      }
      Agreement t = agreement(tuned, tuned.ranges());
      System.out.println(c.name() + " trained: " + t);
      assertAgreement(c.name() + " trained", t);
    }
  }

  @Test
  void aLeakyReluGraphOutputIsRefusedNamingTheNode() {
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(SEED).list()
        .layer(new ZeroPaddingLayer.Builder(1, 1, 1, 1).name("pad").build())
        .layer(new ConvolutionLayer.Builder(3, 3).name("conv").nOut(2).activation(Activation.RELU).build())
        .layer(new DenseLayer.Builder().name("fc").nOut(5).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).name("out").nOut(3)
            .activation(new ActivationLReLU(0.1)).build())
        .setInputType(InputType.convolutional(4, 4, 1))
        .build());
    net.init();
    Graph g = Dl4jImporter.importModel(net, new int[] {4, 4, 1});
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> QatNetwork.checkSupported(g));
    int last = g.nodes().size() - 1;
    Node leaky = g.nodes().get(last);
    assertTrue(leaky instanceof Node.LeakyRelu, g.describe());
    assertTrue(e.getMessage().startsWith("node " + last + " '" + leaky.name() + "' (LeakyRelu, from layer 3 'out'"),
        e.getMessage());
    assertTrue(e.getMessage().contains("the graph output must be produced by a FULLY_CONNECTED"), e.getMessage());
  }

  /**
   * The measured agreement of the simulation with the int8 interpreter; {@code tensors}: per tensor {elements off,
   * elements compared, max steps}; {@code requantizing}: the CONCATENATIONs whose export requantizes an input.
   */
  private record Agreement(int rows, int top1, int identicalRows, float maxOutputSteps, Map<String, int[]> tensors,
      java.util.Set<String> requantizing) {
    @Override
    public String toString() {
      StringBuilder b = new StringBuilder("top-1 " + top1 + "/" + rows + ", identical outputs " + identicalRows + "/"
          + rows + ", max |sim - int8| " + maxOutputSteps + " output steps; per tensor (elements off / compared, "
          + "max steps; requantizing concatenations " + requantizing + "):");
      tensors.forEach((t, d) -> b.append(' ').append(t).append(' ').append(d[0]).append('/').append(d[1])
          .append(" max ").append(d[2]).append(';'));
      return b.toString();
    }
  }

  private static Agreement agreement(QatNetwork qat, ActivationRanges ranges) {
    Graph g = qat.writeBack();
    TfliteModel model = TfliteExporter.export(g, ExportOptions.int8(ranges, ExportOptions.IoType.FLOAT));
    float[] x = TestModels.randomInput(g, ROWS, SEED + 4);
    TensorValue[] all = new Interpreter(model).runAll(TensorValue.ofFloat(withBatch(g.input().shape(), ROWS), x));
    float[] deployed = all[model.outputs()[0]].floats();
    qat.setSoftmaxOutputQuantized(true);
    INDArray in = qat.toDl4jInput(x, ROWS);
    float[] simulated = flat(qat.network().outputSingle(false, in));
    Map<String, INDArray> acts = qat.network().feedForward(in, false);
    qat.setSoftmaxOutputQuantized(false);
    // per tensor: the vertices holding a tensor's simulated value (not overwritten in place: observableGraph)
    Map<String, int[]> tensors = new LinkedHashMap<>();
    for (GraphTensor t : qat.observableGraph().tensors()) {
      Dl4jSource s = t.source();
      if (s.kind() != Dl4jSource.Kind.ACTIVATION || t.name().equals(g.output().name())) {
        continue;
      }
      TfliteTensor q = model.tensor(model.tensorIndex(t.name()));
      QuantParams p = new QuantParams(q.quantization().scale()[0], (int) q.quantization().zeroPoint()[0]);
      byte[] ints = all[model.tensorIndex(t.name())].int8s();
      INDArray a = acts.get(s.vertexName());
      float[] sim = (a.rank() == 4 ? a.permute(0, 2, 3, 1) : a).dup('c').castTo(DataType.FLOAT).reshape(-1)
          .toFloatVector();
      int off = 0;
      int maxSteps = 0;
      for (int i = 0; i < ints.length; i++) {
        int steps = Math.round(Math.abs(sim[i] - p.dequantize(ints[i])) / p.scale());
        off += steps != 0 ? 1 : 0;
        maxSteps = Math.max(maxSteps, steps);
      }
      tensors.put(t.name(), new int[] {off, ints.length, maxSteps});
    }
    java.util.Set<String> requantizing = new java.util.TreeSet<>();
    for (Node n : g.nodes()) {
      if (n instanceof Node.Concatenation && model.tensors().stream()
          .anyMatch(t -> t.name().endsWith("/requantized/" + n.name()))) {
        requantizing.add(n.output());
      }
    }
    int classes = deployed.length / ROWS;
    int top1 = 0;
    int identical = 0;
    float maxDiff = 0;
    for (int r = 0; r < ROWS; r++) {
      float rowDiff = 0;
      for (int k = 0; k < classes; k++) {
        rowDiff = Math.max(rowDiff, Math.abs(simulated[r * classes + k] - deployed[r * classes + k]));
      }
      maxDiff = Math.max(maxDiff, rowDiff);
      top1 += argMax(simulated, r, classes) == argMax(deployed, r, classes) ? 1 : 0;
      identical += rowDiff == 0 ? 1 : 0;
    }
    return new Agreement(ROWS, top1, identical, maxDiff / OUTPUT_STEP, tensors, requantizing);
  }

  private static void assertAgreement(String what, Agreement a) {
    assertTrue(a.top1() >= MIN_TOP1_OF_256 * a.rows() / 256, what + ": " + a);
    assertTrue(a.maxOutputSteps() <= MAX_OUTPUT_STEPS, what + ": " + a);
    a.tensors().forEach((t, d) -> assertEquals(0, d[0], what + ": tensor '" + t + "' " + d[0] + " of " + d[1]
        + " elements off, by up to " + d[2] + " steps: " + a));
    assertTrue(a.tensors().size() >= 6, what + ": compared only " + a.tensors().keySet());
  }

  private static float[] runFloat32(Graph g, float[] x, int batch) {
    TfliteModel m = TfliteExporter.export(g, ExportOptions.of(ExportMode.FLOAT32));
    return new Interpreter(m).run(TensorValue.ofFloat(withBatch(g.input().shape(), batch), x))[0].floats();
  }

  private static int[] withBatch(int[] shape, int batch) {
    int[] s = shape.clone();
    s[0] = batch;
    return s;
  }

  /** Seeded biases (DL4J starts them at 0), so that rounding of the int32 biases and requantization is exercised. */
  private static void randomizeBiases(Model model, long seed) {
    Random r = new Random(seed);
    for (Map.Entry<String, INDArray> e : model.paramTable().entrySet()) {
      if (e.getKey().endsWith("_b")) {
        INDArray b = e.getValue();
        for (long i = 0; i < b.length(); i++) {
          b.putScalar(i, (float) r.nextGaussian() * 0.2f);
        }
      }
    }
  }
}
