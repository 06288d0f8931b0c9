package io.sparkquant.ops.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.calib.MinMaxStats;
import io.sparkquant.ops.calib.ModelStats;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.calib.TensorObserver;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Node;
import io.sparkquant.ops.graph.TestModels;
import io.sparkquant.ops.interp.Judge;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The layers of issue 12 (PAD, LEAKY_RELU, RESIZE_NEAREST_NEIGHBOR, CONCATENATION, standalone activations) through
 * calibration and export: the ops the exporter writes, the Java interpreter against TFLite 2.6.2 on the int8 and
 * 16x8 exports (outputs exactly equal), and the calibration table holding every new tensor. float32 against DL4J
 * and int8-I/O bit-exactness are {@link TfliteExporterTest} and {@link ExportedInt8InterpreterTest} (both run these
 * models as the cases "layersChain" and "concatGraph").
 */
class NewLayersExportTest {

  private static TfliteExporterTest.Case find(String name) {
    return TfliteExporterTest.cases().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
  }

  private static Map<String, Integer> opCounts(TfliteModel m) {
    return m.operators().stream().collect(Collectors.toMap(TfliteOperator::opName, o -> 1, Integer::sum,
        TreeMap::new));
  }

  @Test
  void layersChainWritesPadLeakyReluResizeAndStandaloneTanh() {
    TfliteExporterTest.Case c = find("layersChain");
    TfliteModel m = TfliteExporter.export(c.graph(), ExportOptions.int8(TfliteExporterTest.ranges(c),
        ExportOptions.IoType.FLOAT));
    Map<String, Integer> ops = opCounts(m);
    assertEquals(1, ops.get("PAD"), ops.toString());
    assertEquals(2, ops.get("LEAKY_RELU"), ops.toString());
    assertEquals(1, ops.get("RESIZE_NEAREST_NEIGHBOR"), ops.toString());
    assertEquals(1, ops.get("TANH"), ops.toString());
    // PAD and RESIZE keep their input's parameters: padded cells hold the zero point, a real 0
    TfliteOperator pad = m.operators().stream().filter(o -> o.op() == BuiltinOp.PAD).findFirst().orElseThrow();
    assertEquals(params(m.tensor(pad.inputs()[0])), params(m.tensor(pad.outputs()[0])));
    assertExactInBothRuntimes(c, m);
    assertExactInBothRuntimes(c, TfliteExporter.export(c.graph(),
        new ExportOptions(ExportMode.INT16X8, null, TfliteExporterTest.ranges(c), null, null)));
  }

  @Test
  void concatenationRequantizesTheInputWhoseParametersDiffer() {
    TfliteExporterTest.Case c = find("concatGraph");
    ActivationRanges ranges = TfliteExporterTest.ranges(c);
    for (ExportMode mode : List.of(ExportMode.INT8, ExportMode.INT16X8)) {
      TfliteModel m = TfliteExporter.export(c.graph(), mode == ExportMode.INT8
          ? ExportOptions.int8(ranges, ExportOptions.IoType.FLOAT) : new ExportOptions(mode, null, ranges, null, null));
      TensorType act = mode == ExportMode.INT8 ? TensorType.INT8 : TensorType.INT16;
      TfliteOperator concat = m.operators().stream().filter(o -> o.op() == BuiltinOp.CONCATENATION).findFirst()
          .orElseThrow();
      TfliteTensor out = m.tensor(concat.outputs()[0]);
      long requantized = m.operators().stream().filter(o -> o.op() == BuiltinOp.QUANTIZE
          && m.tensor(o.inputs()[0]).type() == act).count();
      assertTrue(requantized >= 1, mode + ": the two convs have different ranges, one input must be requantized");
      for (int in : concat.inputs()) {
        assertEquals(params(out), params(m.tensor(in)), mode + " " + m.tensor(in).name());
      }
      Map<String, Integer> ops = opCounts(m);
      assertTrue(ops.containsKey("RELU6") && ops.containsKey("LOGISTIC") && ops.containsKey("RESIZE_NEAREST_NEIGHBOR"),
          ops.toString());
      assertExactInBothRuntimes(c, m);
    }
  }

  /** The calibration statistics (pass 1 as the distributed calibrator runs it per batch) cover every new tensor. */
  @Test
  void calibrationTableHoldsEveryNewTensor() {
    for (String name : List.of("layersChain", "concatGraph")) {
      TfliteExporterTest.Case c = find(name);
      ModelStats<MinMaxStats> stats = ModelStats.empty();
      for (int b = 0; b < 3; b++) {
        TensorObserver.addMinMax(stats, Dl4jActivations.collect(c.graph(), c.model(),
            Dl4jActivations.toDl4jInput(c.graph(), TestModels.randomInput(c.graph(), 16, 300 + b), 16)));
      }
      CalibrationTable table = CalibrationTable.compute(RangeMethod.minMax(), stats, null);
      Set<String> newTensors = c.graph().nodes().stream().filter(n -> n instanceof Node.Pad
          || n instanceof Node.LeakyRelu || n instanceof Node.ResizeNearest || n instanceof Node.Concatenation
          || n instanceof Node.Activation).map(Node::output).collect(Collectors.toSet());
      assertTrue(newTensors.size() >= 4, name + " " + newTensors);
      for (String t : newTensors) {
        assertTrue(table.tensors().containsKey(t), name + ": the table lacks " + t + "; has " + table.tensors()
            .keySet());
      }
      // the table's ranges are enough to export: every range export needs is there
      TfliteExporter.export(c.graph(), ExportOptions.int8(table.toActivationRanges(), ExportOptions.IoType.FLOAT));
    }
  }

  private static List<Object> params(TfliteTensor t) {
    return List.of(t.quantization().scale()[0], t.quantization().zeroPoint()[0]);
  }

  /** The Java interpreter and TFLite 2.6.2 give identical outputs (float I/O: dequantized identical integers). */
  private static void assertExactInBothRuntimes(TfliteExporterTest.Case c, TfliteModel m) {
    for (int s = 0; s < c.inputs().length; s++) {
      Judge.checkWithin(c.name() + " sample " + s, m, 0f, (Object) c.inputs()[s]);
    }
  }
}
