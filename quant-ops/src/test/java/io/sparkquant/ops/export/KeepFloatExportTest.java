package io.sparkquant.ops.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.Node;
import io.sparkquant.ops.graph.TestModels;
import io.sparkquant.ops.interp.BuiltinOpResolver;
import io.sparkquant.ops.interp.FloatIo;
import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.ModelCheck;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteWriter;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * int8 export with some nodes kept in float (DEQUANTIZE, float op with float weights, QUANTIZE): loads and runs in
 * TFLite 2.6.2, the Java interpreter gives the same int8 outputs, and it stays as close to DL4J as full int8.
 */
class KeepFloatExportTest {

  static final int CALIBRATION_BATCHES = 4;
  static final int SAMPLES = 16;

  record Exported(Graph graph, Model model, ActivationRanges ranges) {}

  static Exported calibrated(Model model, Graph graph) {
    List<INDArray> batches = new ArrayList<>();
    for (int b = 0; b < CALIBRATION_BATCHES; b++) {
      batches.add(Dl4jActivations.toDl4jInput(graph, TestModels.randomInput(graph, 8, 100 + b), 8));
    }
    return new Exported(graph, model, MinMaxRanges.collect(graph, model, batches.iterator()));
  }

  static List<Exported> models() {
    var chain = TestModels.cnnChain(7);
    var res = TestModels.residual(5, PoolingType.MAX);
    return List.of(calibrated(chain, Dl4jImporter.importNetwork(chain)),
        calibrated(res, Dl4jImporter.importGraph(res, new int[] {8, 8, 3})));
  }

  /** The first convolution and the last fully connected node: an early and the final weight layer. */
  static Set<String> kept(Graph g) {
    String conv = g.nodes().stream().filter(n -> n instanceof Node.Conv2D).findFirst().orElseThrow().name();
    List<Node> fcs = g.nodes().stream().filter(n -> n instanceof Node.FullyConnected).toList();
    return Set.of(conv, fcs.get(fcs.size() - 1).name());
  }

  @Test
  void keptLayersRunInFloatAndTfliteAgreesWithTheJavaInterpreter() {
    for (Exported e : models()) {
      Set<String> keep = kept(e.graph());
      TfliteModel m = TfliteExporter.export(e.graph(),
          ExportOptions.int8(e.ranges(), ExportOptions.IoType.INT8).withFloatNodes(keep));
      assertEquals(List.of(), ModelCheck.verify(m, BuiltinOpResolver.INSTANCE), e.graph().name());
      for (Node n : e.graph().nodes()) {
        if (n instanceof Node.Conv2D || n instanceof Node.FullyConnected || n instanceof Node.DepthwiseConv2D) {
          TensorType expected = keep.contains(n.name()) ? TensorType.FLOAT32 : TensorType.INT8;
          assertEquals(expected, m.tensor(m.tensorIndex(n.name() + "/weights")).type(), n.name());
        }
      }
      for (String k : keep) {
        String out = e.graph().nodes().stream().filter(n -> n.name().equals(k)).findFirst().orElseThrow().output();
        assertEquals(TensorType.FLOAT32, m.tensor(m.tensorIndex(out + TfliteExporter.FLOAT_SUFFIX)).type());
        assertEquals(TensorType.INT8, m.tensor(m.tensorIndex(out)).type());
      }
      byte[] bytes = TfliteWriter.write(m);
      Interpreter java = new Interpreter(TfliteReader.read(bytes));
      TfliteTensor in = java.inputTensor(0);
      try (TfliteRuntime rt = TfliteRuntime.create(bytes, 1)) {
        for (int s = 0; s < SAMPLES; s++) {
          Object q = FloatIo.fromFloats(in, TestModels.randomInput(e.graph(), 1, 9000 + s));
          assertArrayEquals((byte[]) rt.run(q)[0], (byte[]) java.run(q)[0], e.graph().name() + " sample " + s);
        }
      }
    }
  }

  @Test
  void keptFloatStaysCloseToDl4j() {
    for (Exported e : models()) {
      byte[] bytes = TfliteWriter.write(TfliteExporter.export(e.graph(),
          ExportOptions.int8(e.ranges(), ExportOptions.IoType.FLOAT).withFloatNodes(kept(e.graph()))));
      float[] x = TestModels.randomInput(e.graph(), 1, 777);
      float[] expected = TfliteTestSupport.flat(TestModels.dl4jOutput(e.model(),
          Dl4jActivations.toDl4jInput(e.graph(), x, 1)));
      try (TfliteRuntime rt = TfliteRuntime.create(bytes, 1)) {
        float[] y = TfliteTestSupport.runFloat(rt, x);
        for (int c = 0; c < y.length; c++) {
          assertTrue(Math.abs(y[c] - expected[c]) <= TfliteExporterTest.INT8_TOLERANCE, e.graph().name() + " class "
              + c + ": " + y[c] + " vs " + expected[c]);
        }
      }
    }
  }

  @Test
  void unknownNodesAndFloatModesAreRejected() {
    Exported e = models().get(0);
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> TfliteExporter.export(e.graph(),
        ExportOptions.int8(e.ranges(), ExportOptions.IoType.FLOAT).withFloatNodes(Set.of("nope"))));
    assertTrue(ex.getMessage().contains("'nope' is not a node"), ex.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> ExportOptions.of(ExportMode.DYNAMIC_RANGE).withFloatNodes(Set.of("conv1")));
  }
}
