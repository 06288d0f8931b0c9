package io.sparkquant.ops.qat;

import static io.sparkquant.ops.qat.QatTesting.argMax;
import static io.sparkquant.ops.qat.QatTesting.assertHooksOffMatchAndOnChange;
import static io.sparkquant.ops.qat.QatTesting.flat;
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
import io.sparkquant.ops.graph.ConstTensor;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Dl4jInputLayout;
import io.sparkquant.ops.graph.Dl4jSource;
import io.sparkquant.ops.graph.FloatReference;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.GraphTensor;
import io.sparkquant.ops.graph.Node;
import io.sparkquant.ops.graph.TestModels;
import io.sparkquant.ops.graph.UnsupportedModelException;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The QAT network built from the graph IR against the IR itself and against the int8 .tflite exported from the
 * graph it writes back, run by the real TFLite 2.6.2 runtime, on the seeded test models (chain with depthwise and
 * separable convolutions, MLP, residual ADD with global average or max pooling, average pooling + MEAN).
 */
class QatNetworkTest {

  private static final long SEED = 31;
  /**
   * Hooks off: DL4J's float32 network against the IR's float reference, relative to the largest |value| (measured:
   * at most 1.5e-7, one or two float32 ulps of the probabilities).
   */
  private static final double FLOAT_TOLERANCE = 1e-6;
  private static final int CALIBRATION_ROWS = 128;
  private static final int ROWS = 500;
  /** One step of the int8 softmax output (1/256), plus float noise of the dequantization. */
  private static final float OUTPUT_STEP = 1f / 256f + 1e-6f;
  private static final double MIN_AGREEMENT = 0.998;
  private static final int TRAIN_STEPS = 8;

  private record Case(String name, Model model, Graph graph, ActivationRanges ranges) {}

  private static List<Case> cases;

  @BeforeAll
  static void models() {
    cases = new ArrayList<>();
    add("cnnChain", TestModels.cnnChain(SEED), null);
    add("mlp", TestModels.mlp(SEED), null);
    add("residual", TestModels.residual(SEED, PoolingType.AVG), new int[] {8, 8, 3});
    add("residualGlobalMax", TestModels.residual(SEED, PoolingType.MAX), new int[] {8, 8, 3});
    add("globalAverage", TestModels.globalAverage(SEED, false), null);
  }

  private static void add(String name, Model model, int[] inputShape) {
    Graph g = Dl4jImporter.importModel(model, inputShape);
    INDArray calib = Dl4jActivations.toDl4jInput(g, TestModels.randomInput(g, CALIBRATION_ROWS, SEED + 1),
        CALIBRATION_ROWS);
    cases.add(new Case(name, model, g, MinMaxRanges.collect(g, model, List.of(calib).iterator())));
  }

  @Test
  void hooksDisabledComputesTheGraphInFloat() {
    int batch = 64;
    for (Case c : cases) {
      QatNetwork qat = QatNetwork.build(c.graph(), c.ranges(), QatNetwork.Options.defaults());
      float[] x = TestModels.randomInput(c.graph(), batch, SEED + 2);
      float[] expected = FloatReference.run(c.graph(), x, batch).get(c.graph().output().name());
      assertHooksOffMatchAndOnChange(qat, x, batch, expected, FLOAT_TOLERANCE, c.name());
    }
  }

  @Test
  void roundTripWithoutTrainingExportsIdenticalBytes() {
    for (Case c : cases) {
      QatNetwork qat = QatNetwork.build(c.graph(), c.ranges(), QatNetwork.Options.defaults());
      Graph back = qat.writeBack();
      assertEquals(c.graph().describe(), back.describe(), c.name());
      for (ExportOptions o : List.of(ExportOptions.of(ExportMode.FLOAT32),
          ExportOptions.int8(c.ranges(), ExportOptions.IoType.FLOAT),
          ExportOptions.int8(c.ranges(), ExportOptions.IoType.INT8))) {
        assertArrayEquals(TfliteWriter.write(TfliteExporter.export(c.graph(), o)),
            TfliteWriter.write(TfliteExporter.export(back, o)), c.name() + " " + o.mode() + " " + o.io());
      }
      Map<String, float[]> read = qat.ranges().asMap();
      assertEquals(TfliteExporter.tensorsNeedingRanges(c.graph()), List.copyOf(read.keySet()), c.name());
      for (Map.Entry<String, float[]> e : read.entrySet()) {
        assertArrayEquals(c.ranges().get(e.getKey()).orElseThrow(), e.getValue(), c.name() + " " + e.getKey());
      }
    }
  }

  @Test
  void simulationEqualsDeployment() {
    for (Case c : cases) {
      QatNetwork qat = QatNetwork.build(c.graph(), c.ranges(), QatNetwork.Options.defaults());
      assertAgreement(c.name() + " untrained", qat, c.ranges());
    }
  }

  @Test
  void afterTrainingTheExportedWeightsAreTheSimulatedOnes() {
    for (Case c : cases) {
      QatNetwork qat = QatNetwork.build(c.graph(), c.ranges(),
          QatNetwork.Options.defaults().withUpdater(new Adam(0.01)));
      DataSet train = trainingData(c.graph(), qat, 64, SEED + 3);
      double before = qat.network().score(train);
      for (int i = 0; i < TRAIN_STEPS; i++) {
        qat.network().fit(train);
      }
      double after = qat.network().score(train);
      assertTrue(after < before, c.name() + ": loss did not fall, " + before + " -> " + after);
      Graph trained = qat.writeBack();
      assertFalse(Arrays.equals(TfliteWriter.write(TfliteExporter.export(c.graph(), ExportOptions.of(
          ExportMode.FLOAT32))), TfliteWriter.write(TfliteExporter.export(trained, ExportOptions.of(
          ExportMode.FLOAT32)))), c.name() + ": training changed no weight");
      assertAgreement(c.name() + " trained", qat, qat.ranges());
    }
  }

  @Test
  void refreshedRangesAreReadBackAndSimulated() {
    for (Case c : cases) {
      QatNetwork qat = QatNetwork.build(c.graph(), c.ranges(), QatNetwork.Options.defaults());
      Map<String, float[]> wider = new LinkedHashMap<>();
      c.ranges().asMap().forEach((k, r) -> wider.put(k, new float[] {r[0] * 1.25f - 0.01f, r[1] * 1.25f + 0.01f}));
      ActivationRanges refreshed = ActivationRanges.of(wider, "refreshed");
      qat.setRanges(refreshed);
      for (Map.Entry<String, float[]> e : qat.ranges().asMap().entrySet()) {
        assertArrayEquals(wider.get(e.getKey()), e.getValue(), c.name() + " " + e.getKey());
      }
      // Average pooling follows the range it inherits: the simulation still matches an export with the new ranges.
      assertAgreement(c.name() + " refreshed ranges", qat, refreshed);
    }
  }

  @Test
  void reattachedAfterModelSerializerRoundTrip() throws IOException {
    for (Case c : cases) {
      QatNetwork qat = QatNetwork.build(c.graph(), c.ranges(), QatNetwork.Options.defaults());
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      ModelSerializer.writeModel(qat.network(), bytes, true);
      ComputationGraph restored = ModelSerializer.restoreComputationGraph(
          new ByteArrayInputStream(bytes.toByteArray()), true);
      QatNetwork again = QatNetwork.attach(c.graph(), restored);
      ExportOptions int8 = ExportOptions.int8(c.ranges(), ExportOptions.IoType.FLOAT);
      assertArrayEquals(TfliteWriter.write(TfliteExporter.export(qat.writeBack(), int8)),
          TfliteWriter.write(TfliteExporter.export(again.writeBack(), int8)), c.name());
      assertEquals(qat.ranges().asMap().keySet(), again.ranges().asMap().keySet(), c.name());
      float[] x = TestModels.randomInput(c.graph(), 16, SEED + 5);
      assertArrayEquals(flat(qat.network().outputSingle(false, qat.toDl4jInput(x, 16))),
          flat(restored.outputSingle(false, again.toDl4jInput(x, 16))), c.name());
    }
  }

  @Test
  void perTensorWeightsUseOneScalePerLayer() {
    Case c = cases.get(0);
    QatNetwork qat = QatNetwork.build(c.graph(), c.ranges(), QatNetwork.Options.defaults().withPerTensorWeights(true));
    int weightLayers = 0;
    for (org.deeplearning4j.nn.conf.layers.Layer conf : FakeQuant.layerConfs(qat.network())) {
      FakeQuantWeights w = FakeQuant.weights(conf);
      if (w != null) {
        assertTrue(w.isPerTensor(), conf.getLayerName());
        weightLayers++;
      }
    }
    assertEquals(c.graph().nodes().stream().filter(n -> n instanceof Node.Conv2D || n instanceof Node.DepthwiseConv2D
        || n instanceof Node.FullyConnected).count(), weightLayers);
    float[] x = TestModels.randomInput(c.graph(), 16, SEED + 6);
    QatNetwork perChannel = QatNetwork.build(c.graph(), c.ranges(), QatNetwork.Options.defaults());
    assertFalse(Arrays.equals(flat(perChannel.network().outputSingle(false, perChannel.toDl4jInput(x, 16))),
        flat(qat.network().outputSingle(false, qat.toDl4jInput(x, 16)))), "per-tensor weights changed nothing");
  }

  @Test
  void unsupportedNodeIsNamedWithItsIndex() {
    GraphTensor in = new GraphTensor("input", new int[] {1, 4, 4, 2}, null, Dl4jSource.networkInput("input"));
    Node conv = new Node.Conv2D("conv", "input", "conv", new ConstTensor(new int[] {3, 1, 1, 2}, new float[6]),
        ConstTensor.vector(new float[3]), 1, 1, 1, 1, Padding.VALID, FusedActivation.RELU, "layer 0");
    Node flat = new Node.Reshape("flat", "conv", "flat", new int[] {1, 48}, "layer 1");
    Node relu = new Node.Activation("relu", "flat", "relu", Node.ActivationKind.RELU, "layer 2");
    Node fc = new Node.FullyConnected("fc", "relu", "fc", new ConstTensor(new int[] {2, 48}, new float[96]),
        ConstTensor.vector(new float[2]), FusedActivation.NONE, "layer 3");
    Graph g = Graph.of("bad", in, List.of(t("conv", 1, 4, 4, 3), t("flat", 1, 48), t("relu", 1, 48),
        t("fc", 1, 2)), List.of(conv, flat, relu, fc), "fc", Dl4jInputLayout.NCHW);
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
        () -> QatNetwork.build(g, null, QatNetwork.Options.defaults()));
    assertTrue(e.getMessage().startsWith("node 1 'flat' (Reshape, from layer 1)"), e.getMessage());

    Node gap = new Node.GlobalPool("gap", "conv", "gap", Node.PoolKind.AVG, false, "layer 1");
    Node softmax = new Node.Softmax("softmax", "gap", "softmax", 1f, "layer 2");
    Graph g2 = Graph.of("bad2", in, List.of(t("conv", 1, 4, 4, 3), t("gap", 1, 3), t("softmax", 1, 3)),
        List.of(conv, gap, softmax), "softmax", Dl4jInputLayout.NCHW);
    UnsupportedModelException e2 = assertThrows(UnsupportedModelException.class,
        () -> QatNetwork.build(g2, null, QatNetwork.Options.defaults()));
    assertTrue(e2.getMessage().startsWith("node 2 'softmax' (Softmax, from layer 2)"), e2.getMessage());
  }

  private static GraphTensor t(String name, int... shape) {
    return new GraphTensor(name, shape, name, Dl4jSource.derived());
  }

  /**
   * Hooks on with the softmax output quantized as deployed: top-1 and every probability (within one int8 output
   * step) against the int8 .tflite exported from the written-back graph with the network's own ranges.
   */
  private static void assertAgreement(String what, QatNetwork qat, ActivationRanges ranges) {
    qat.setSoftmaxOutputQuantized(true);
    Graph g = qat.writeBack();
    byte[] tflite = TfliteWriter.write(TfliteExporter.export(g, ExportOptions.int8(ranges,
        ExportOptions.IoType.FLOAT)));
    float[] x = TestModels.randomInput(g, ROWS, SEED + 4);
    float[] deployed;
    try (TfliteRuntime rt = TfliteRuntime.create(tflite, 1)) {
      rt.resizeBatch(ROWS);
      deployed = (float[]) rt.run((Object) x)[0];
    }
    float[] simulated = flat(qat.network().outputSingle(false, qat.toDl4jInput(x, ROWS)));
    qat.setSoftmaxOutputQuantized(false);
    assertEquals(deployed.length, simulated.length, what);
    int classes = deployed.length / ROWS;
    int agree = 0;
    int exact = 0;
    float maxDiff = 0;
    for (int r = 0; r < ROWS; r++) {
      float rowDiff = 0;
      for (int k = 0; k < classes; k++) {
        rowDiff = Math.max(rowDiff, Math.abs(simulated[r * classes + k] - deployed[r * classes + k]));
      }
      maxDiff = Math.max(maxDiff, rowDiff);
      boolean top1 = argMax(simulated, r, classes) == argMax(deployed, r, classes);
      agree += top1 && rowDiff <= OUTPUT_STEP ? 1 : 0;
      exact += rowDiff == 0 ? 1 : 0;
    }
    double agreement = agree / (double) ROWS;
    String report = what + ": simulation agrees with TFLite int8 on " + agree + "/" + ROWS + " rows (top-1 and "
        + "within one output step), identical on " + exact + "; max |sim - int8| " + maxDiff * 256 + " steps";
    System.out.println(report);
    assertTrue(agreement >= MIN_AGREEMENT, report);
  }
}
