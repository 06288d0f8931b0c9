package io.sparkquant.ops.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.TestModels;
import io.sparkquant.ops.interp.BuiltinOpResolver;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.ModelCheck;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteWriter;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteRuntime;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Exported models judged by the real TFLite 2.6.2 runtime against DL4J. */
class TfliteExporterTest {

  private static final Logger LOG = LoggerFactory.getLogger(TfliteExporterTest.class);

  /** float32 TFLite vs DL4J on softmax outputs: only accumulation order differs. */
  static final double FLOAT32_TOLERANCE = 1e-5;
  /** float16 weights: relative weight error 2^-11. */
  static final double FLOAT16_TOLERANCE = 5e-4;
  /** dynamic-range / int8 / 16x8 vs float on probabilities of these small random models. */
  static final double DYNAMIC_TOLERANCE = 0.006;
  static final double INT8_TOLERANCE = 0.015;
  static final double INT16_TOLERANCE = 0.005;

  static final int SAMPLES = 8;

  /** A model, its graph, SAMPLES fresh inputs (NHWC, not the calibration ones) and DL4J's outputs for them. */
  record Case(String name, Model model, Graph graph, float[][] inputs, float[][] expected) {
    Case(String name, Model model, Graph graph) {
      this(name, model, graph, inputs(graph), expected(model, graph, inputs(graph)));
    }

    static float[][] inputs(Graph g) {
      float[][] x = new float[SAMPLES][];
      for (int s = 0; s < SAMPLES; s++) {
        x[s] = TestModels.randomInput(g, 1, 5000 + s);
      }
      return x;
    }

    static float[][] expected(Model model, Graph g, float[][] x) {
      float[] all = new float[SAMPLES * g.input().itemSize()];
      for (int s = 0; s < SAMPLES; s++) {
        System.arraycopy(x[s], 0, all, s * x[s].length, x[s].length);
      }
      INDArray out = TestModels.dl4jOutput(model, Dl4jActivations.toDl4jInput(g, all, SAMPLES));
      float[][] y = new float[SAMPLES][];
      for (int s = 0; s < SAMPLES; s++) {
        y[s] = TfliteTestSupport.flat(out.getRow(s));
      }
      return y;
    }
  }

  private static List<Case> cases;

  static synchronized List<Case> cases() {
    if (cases != null) {
      return cases;
    }
    cases = new ArrayList<>();
    var chain = TestModels.cnnChain(7);
    cases.add(new Case("cnnChain", chain, Dl4jImporter.importNetwork(chain)));
    var mlp = TestModels.mlp(11);
    cases.add(new Case("mlp", mlp, Dl4jImporter.importNetwork(mlp)));
    var gap = TestModels.globalAverage(3, false);
    cases.add(new Case("globalAverage", gap, Dl4jImporter.importNetwork(gap)));
    var resAvg = TestModels.residual(5, PoolingType.AVG);
    cases.add(new Case("residualAvg", resAvg, Dl4jImporter.importGraph(resAvg, new int[] {8, 8, 3})));
    var resMax = TestModels.residual(6, PoolingType.MAX);
    cases.add(new Case("residualMax", resMax, Dl4jImporter.importGraph(resMax, new int[] {8, 8, 3})));
    var layers = TestModels.layersChain(13);
    cases.add(new Case("layersChain", layers, Dl4jImporter.importNetwork(layers)));
    var concat = TestModels.concatGraph(17);
    cases.add(new Case("concatGraph", concat, Dl4jImporter.importGraph(concat, new int[] {8, 8, 3})));
    return cases;
  }

  @Test
  void float32ExportAgreesWithDl4j() {
    for (Case c : cases()) {
      TfliteModel m = TfliteExporter.export(c.graph(), ExportOptions.of(ExportMode.FLOAT32));
      assertEquals(List.of(), ModelCheck.verify(m, BuiltinOpResolver.INSTANCE), c.name());
      byte[] bytes = TfliteWriter.write(m);
      double err = maxError(c, bytes, null);
      LOG.info("{} float32: {} bytes, max |p_tflite - p_dl4j| = {}", c.name(), bytes.length, err);
      assertTrue(err <= FLOAT32_TOLERANCE, c.name() + " float32 error " + err);
    }
  }

  @Test
  void everyModeLoadsAndStaysCloseToFloat() {
    for (Case c : cases()) {
      ActivationRanges ranges = ranges(c);
      Map<String, Double> tol = new LinkedHashMap<>();
      Map<String, Double> errors = new LinkedHashMap<>();
      tol.put("float16", FLOAT16_TOLERANCE);
      tol.put("dynamic", DYNAMIC_TOLERANCE);
      tol.put("int8", INT8_TOLERANCE);
      tol.put("int8-io", INT8_TOLERANCE);
      tol.put("int16x8", INT16_TOLERANCE);
      for (var e : tol.entrySet()) {
        ExportOptions o = switch (e.getKey()) {
          case "float16" -> ExportOptions.of(ExportMode.FLOAT16);
          case "dynamic" -> ExportOptions.of(ExportMode.DYNAMIC_RANGE);
          case "int8" -> ExportOptions.int8(ranges, ExportOptions.IoType.FLOAT);
          case "int8-io" -> ExportOptions.int8(ranges, ExportOptions.IoType.INT8);
          default -> new ExportOptions(ExportMode.INT16X8, null, ranges, null, null);
        };
        TfliteModel m = TfliteExporter.export(c.graph(), o);
        assertEquals(List.of(), ModelCheck.verify(m, BuiltinOpResolver.INSTANCE), c.name() + " " + e.getKey());
        byte[] bytes = TfliteWriter.write(m);
        double err = maxError(c, bytes, o.io() == ExportOptions.IoType.INT8 ? m : null);
        LOG.info("{} {}: {} bytes, min runtime {}, max |p - p_dl4j| = {}", c.name(), e.getKey(), bytes.length,
            TfliteExporter.minRuntimeVersion(m), err);
        assertTrue(err <= e.getValue(), c.name() + " " + e.getKey() + " error " + err + " > " + e.getValue());
        errors.put(e.getKey(), err);
      }
      // int16 activations must actually buy precision over int8 (same int8 weights).
      assertTrue(errors.get("int16x8") <= errors.get("int8"), c.name() + " " + errors);
    }
  }

  @Test
  void modelsRunWithALargerBatch() {
    for (Case c : cases()) {
      for (ExportOptions o : List.of(ExportOptions.of(ExportMode.FLOAT32),
          ExportOptions.int8(ranges(c), ExportOptions.IoType.FLOAT))) {
        try (TfliteRuntime rt = TfliteRuntime.create(TfliteWriter.write(TfliteExporter.export(c.graph(), o)), 1)) {
          rt.resizeBatch(SAMPLES);
          float[] x = new float[SAMPLES * c.graph().input().itemSize()];
          for (int s = 0; s < SAMPLES; s++) {
            System.arraycopy(c.inputs()[s], 0, x, s * c.inputs()[s].length, c.inputs()[s].length);
          }
          float[] y = (float[]) rt.run((Object) x)[0];
          int k = c.expected()[0].length;
          assertEquals(SAMPLES * k, y.length, c.name());
          double tol = o.mode() == ExportMode.FLOAT32 ? FLOAT32_TOLERANCE : INT8_TOLERANCE;
          for (int s = 0; s < SAMPLES; s++) {
            for (int i = 0; i < k; i++) {
              assertEquals(c.expected()[s][i], y[s * k + i], tol, c.name() + " " + o.mode() + " sample " + s);
            }
          }
        }
      }
    }
  }

  @Test
  void int8ModelHasIntegerTensorsAndMetadata() throws Exception {
    Case c = cases().get(0); // cnnChain
    TfliteModel m = TfliteExporter.export(c.graph(), ExportOptions.int8(ranges(c), ExportOptions.IoType.FLOAT)
        .withProvenance("abc123", "0.1.0-test"));
    TfliteModel back = TfliteReader.read(TfliteWriter.write(m));
    assertEquals(TensorType.FLOAT32, back.tensor(back.inputs()[0]).type());
    long int8Weights = back.tensors().stream().filter(t -> t.isConstant() && t.type() == TensorType.INT8).count();
    assertEquals(6, int8Weights, "conv, depthwise x2, pointwise conv, fc x2");
    assertTrue(back.tensors().stream().noneMatch(t -> t.isConstant() && t.type() == TensorType.FLOAT32));
    assertEquals("1.14.0", TfliteExporter.minRuntimeVersion(back));
    JsonNode p = new ObjectMapper().readTree(back.metadata().get(TfliteExporter.PROVENANCE_METADATA));
    assertEquals("int8", p.get("mode").asText());
    assertEquals("abc123", p.get("sourceModelSha256").asText());
    assertEquals("minmax", p.get("rangeMethod").asText());
    assertEquals(1, p.get("ops").get("QUANTIZE/v1").asInt());
  }

  @Test
  void missingRangesAreNamed() {
    Case c = cases().get(1); // mlp
    ActivationRanges partial = ActivationRanges.of(Map.of(c.graph().input().name(), new float[] {0, 1}), "test");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TfliteExporter.export(c.graph(), ExportOptions.int8(partial, ExportOptions.IoType.FLOAT)));
    assertTrue(e.getMessage().startsWith("activation ranges are missing for tensors [fc1"), e.getMessage());
  }

  @Test
  void optionsRejectInt8IoOutsideInt8Mode() {
    assertThrows(IllegalArgumentException.class,
        () -> new ExportOptions(ExportMode.DYNAMIC_RANGE, ExportOptions.IoType.INT8, null, null, null));
    assertThrows(IllegalArgumentException.class,
        () -> new ExportOptions(ExportMode.INT16X8, null, null, null, null));
  }

  static ActivationRanges ranges(Case c) {
    List<INDArray> batches = new ArrayList<>();
    // Enough rows that test inputs rarely exceed the calibrated ranges (clipping would dominate the 16x8 error).
    for (int i = 0; i < 8; i++) {
      batches.add(Dl4jActivations.toDl4jInput(c.graph(), TestModels.randomInput(c.graph(), 32, 1000 + i), 32));
    }
    Iterator<INDArray> it = batches.iterator();
    return MinMaxRanges.collect(c.graph(), c.model(), it);
  }

  /** Max |TFLite - DL4J| over the case's SAMPLES inputs. */
  static double maxError(Case c, byte[] bytes, TfliteModel int8Io) {
    double err = 0;
    try (TfliteRuntime rt = TfliteRuntime.create(bytes, 1)) {
      for (int s = 0; s < SAMPLES; s++) {
        float[] expected = c.expected()[s];
        float[] actual = TfliteTestSupport.runFloat(rt, c.inputs()[s]);
        for (int i = 0; i < expected.length; i++) {
          err = Math.max(err, Math.abs(expected[i] - actual[i]));
        }
      }
    }
    return err;
  }
}
