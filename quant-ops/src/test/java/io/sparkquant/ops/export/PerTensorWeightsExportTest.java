package io.sparkquant.ops.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.graph.ConstTensor;
import io.sparkquant.ops.graph.Node;
import io.sparkquant.ops.numerics.QuantParams;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Int8 export with one weight scale per CONV_2D / DEPTHWISE_CONV_2D tensor: the weights carry a single symmetric
 * scale max|W| / 127, the ops keep the converter's int8 versions, TFLite 2.6.2 runs the models and the Java
 * interpreter matches it bit for bit.
 */
class PerTensorWeightsExportTest {

  private static ExportOptions perTensor(TfliteExporterTest.Case c, ExportOptions.IoType io) {
    return ExportOptions.int8(TfliteExporterTest.ranges(c), io).withPerTensorWeights(true);
  }

  @Test
  void javaInterpreterMatchesTfliteBitForBit() {
    int convOps = 0;
    for (TfliteExporterTest.Case c : TfliteExporterTest.cases()) {
      byte[] bytes = TfliteWriter.write(TfliteExporter.export(c.graph(), perTensor(c, ExportOptions.IoType.INT8)));
      TfliteModel read = TfliteReader.read(bytes);
      convOps += (int) read.operators().stream()
          .filter(o -> o.op() == BuiltinOp.CONV_2D || o.op() == BuiltinOp.DEPTHWISE_CONV_2D).count();
      ExportedInt8InterpreterTest.assertJavaMatchesTflite(c, bytes);
    }
    assertTrue(convOps >= 5, "the test models must exercise conv and depthwise, got " + convOps + " ops");
  }

  @Test
  void convAndDepthwiseWeightsHaveOneSymmetricScale() {
    TfliteExporterTest.Case c = TfliteExporterTest.cases().get(0); // cnnChain: conv, depthwise, separable
    Map<String, ConstTensor> filters = new HashMap<>();
    for (Node n : c.graph().nodes()) {
      if (n instanceof Node.Conv2D conv) {
        filters.put(conv.name() + "/weights", conv.filter());
      } else if (n instanceof Node.DepthwiseConv2D d) {
        filters.put(d.name() + "/weights", d.filter());
      }
    }
    TfliteModel m = TfliteExporter.export(c.graph(), perTensor(c, ExportOptions.IoType.FLOAT));
    TfliteModel perChannel = TfliteExporter.export(c.graph(),
        ExportOptions.int8(TfliteExporterTest.ranges(c), ExportOptions.IoType.FLOAT));
    boolean depthwise = false;
    for (TfliteOperator o : m.operators()) {
      if (o.op() != BuiltinOp.CONV_2D && o.op() != BuiltinOp.DEPTHWISE_CONV_2D) {
        continue;
      }
      depthwise |= o.op() == BuiltinOp.DEPTHWISE_CONV_2D;
      assertEquals(3, o.version(), o.opName() + ": the converter's version for int8 in/weights/out");
      TfliteTensor w = m.tensor(o.inputs()[1]);
      ConstTensor filter = filters.get(w.name());
      assertEquals(1, w.quantization().scale().length, w.name());
      assertArrayEquals(new long[] {0}, w.quantization().zeroPoint(), w.name());
      assertEquals(QuantParams.int8WeightScale(filter.absMax()), w.quantization().scale()[0], 0f, w.name());
      int maxQ = 0;
      for (byte b : w.data()) {
        maxQ = Math.max(maxQ, Math.abs(b));
      }
      assertEquals(127, maxQ, w.name() + ": the largest |w| maps to 127");
      TfliteTensor bias = m.tensor(o.inputs()[2]);
      float inputScale = m.tensor(o.inputs()[0]).quantization().scale()[0];
      assertArrayEquals(new float[] {(float) ((double) inputScale * w.quantization().scale()[0])},
          bias.quantization().scale(), w.name() + " bias scale = input scale * weight scale");
    }
    assertTrue(depthwise, "cnnChain has depthwise convolutions");
    assertFalse(Arrays.equals(TfliteWriter.write(m), TfliteWriter.write(perChannel)));
    assertTrue(provenance(m).contains("\"perTensorWeights\":true"), provenance(m));
    assertFalse(provenance(perChannel).contains("perTensorWeights"), provenance(perChannel));
  }

  @Test
  void quantizerCardNamesTheWeightScales() {
    TfliteExporterTest.Case c = TfliteExporterTest.cases().get(0);
    Quantizer.Result perTensor = Quantizer.quantize(c.graph(), TfliteExporterTest.ranges(c),
        new Quantizer.Config(ExportMode.INT8, ExportOptions.IoType.INT8, Set.of(), 0, null, null, true), null,
        Map.of());
    assertTrue(perTensor.options().perTensorWeights());
    assertEquals("per-tensor", perTensor.card().get("convWeightScales"));
    Quantizer.Result perChannel = Quantizer.quantize(c.graph(), TfliteExporterTest.ranges(c),
        new Quantizer.Config(ExportMode.INT8, ExportOptions.IoType.INT8, Set.of(), 0, null, null), null, Map.of());
    assertEquals("per-channel", perChannel.card().get("convWeightScales"));
  }

  @Test
  void onlyInt8ModeTakesPerTensorWeights() {
    for (ExportMode mode : List.of(ExportMode.FLOAT32, ExportMode.FLOAT16, ExportMode.DYNAMIC_RANGE)) {
      assertThrows(IllegalArgumentException.class, () -> ExportOptions.of(mode).withPerTensorWeights(true));
      assertThrows(IllegalArgumentException.class,
          () -> new Quantizer.Config(mode, null, Set.of(), 0, null, null, true));
    }
  }

  private static String provenance(TfliteModel m) {
    return new String(m.metadata().get(TfliteExporter.PROVENANCE_METADATA), StandardCharsets.UTF_8);
  }
}
