package io.sparkquant.ops.qat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.MinMaxRanges;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.numerics.QuantParams;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** The activation fake-quantizer on its own and inside a network: forward values and STE gradients. */
class FakeQuantActivationTest {

  private static final float MIN = -1f;
  private static final float MAX = 2f;

  /** Values inside the range, exactly on rounding ties, at both edges and outside. */
  private static float[] probeValues(QuantParams p) {
    float lo = p.dequantize(-128);
    float hi = p.dequantize(127);
    float s = p.scale();
    return new float[] {0f, 0.3f, -0.7f, 1.234f, lo, hi, Math.nextDown(hi), Math.nextUp(lo), lo + 0.5f * s,
        p.dequantize(10) + 0.5f * s, p.dequantize(-50) - 0.5f * s, Math.nextUp(hi), Math.nextDown(lo), hi + 3 * s,
        -5f, 7f, 1e6f, -1e6f};
  }

  @Test
  void forwardIsQuantParamsDequantizeOfQuantize() {
    QuantParams p = QuantParams.int8Activation(MIN, MAX);
    float[] x = probeValues(p);
    FakeQuantActivation fq = FakeQuantActivation.output(new ActivationIdentity(), MIN, MAX);
    float[] out = fq.getActivation(Nd4j.createFromArray(x).reshape(2, x.length / 2), true).reshape(x.length)
        .toFloatVector();
    for (int i = 0; i < x.length; i++) {
      float expected = p.dequantize(p.quantize(x[i], -128, 127));
      assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(out[i]), "x = " + x[i]);
    }
    // Outside the range the value saturates at the representable edges.
    assertEquals(p.dequantize(127), out[15]);
    assertEquals(p.dequantize(-128), out[14]);
  }

  @Test
  void quantizesAfterTheWrappedActivationAndBeforeItWithAnInputRange() {
    float[] x = {-3f, -0.2f, 0.37f, 2.9f, 5.5f, 8f};
    INDArray in = Nd4j.createFromArray(x).reshape(1, x.length);
    QuantParams pOut = QuantParams.int8Activation(0f, 6f);
    float[] relu6 = FakeQuantActivation.output(new ActivationReLU6(), 0f, 6f).getActivation(in.dup(), false)
        .toFloatVector();
    for (int i = 0; i < x.length; i++) {
      float y = Math.min(6f, Math.max(0f, x[i]));
      assertEquals(pOut.dequantize(pOut.quantize(y, -128, 127)), relu6[i], "relu6 " + x[i]);
    }
    // Logits quantized over [-4, 4], then softmax, then the fixed (1/256, -128) output.
    FakeQuantActivation sm = new FakeQuantActivation(new ActivationSoftmax());
    sm.setInputRange(-4f, 4f);
    float[] fixed = FakeQuantActivation.fixedOutputRange(new ActivationSoftmax());
    sm.setOutputRange(fixed[0], fixed[1]);
    QuantParams pIn = QuantParams.int8Activation(-4f, 4f);
    float[] logits = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      logits[i] = pIn.dequantize(pIn.quantize(x[i], -128, 127));
    }
    float[] probs = new ActivationSoftmax().getActivation(Nd4j.createFromArray(logits).reshape(1, x.length), false)
        .toFloatVector();
    float[] out = sm.getActivation(in.dup(), false).toFloatVector();
    QuantParams pSm = sm.outputParams();
    for (int i = 0; i < x.length; i++) {
      assertEquals(pSm.dequantize(pSm.quantize(probs[i], -128, 127)), out[i], "softmax " + i);
    }
  }

  @Test
  void fixedOutputRangesGiveTheExportersFixedParameters() {
    for (IActivation a : new IActivation[] {new ActivationSoftmax(), new ActivationSigmoid()}) {
      float[] r = FakeQuantActivation.fixedOutputRange(a);
      assertEquals(new QuantParams(1f / 256f, -128), QuantParams.int8Activation(r[0], r[1]), a.toString());
    }
    float[] tanh = FakeQuantActivation.fixedOutputRange(new ActivationTanH());
    assertEquals(new QuantParams(1f / 128f, 0), QuantParams.int8Activation(tanh[0], tanh[1]));
    assertThrows(IllegalArgumentException.class, () -> FakeQuantActivation.fixedOutputRange(new ActivationReLU()));
  }

  /**
   * The parameters the fake-quantizers use are the ones TfliteExporter writes on the activation tensors: the input,
   * a conv output after its fused relu, the logits, and the softmax output's fixed (1/256, -128).
   */
  @Test
  void parametersEqualTheExportedActivationTensors() {
    MultiLayerNetwork net = FakeQuantWeightsTest.convNet(null);
    Graph graph = Dl4jImporter.importNetwork(net);
    Nd4j.getRandom().setSeed(3);
    INDArray batch = Nd4j.rand(DataType.FLOAT, 6, 8 * 8 * 3).subi(0.5);
    ActivationRanges ranges = MinMaxRanges.collect(graph, net, List.of(batch).iterator());
    TfliteModel model = TfliteReader.read(TfliteWriter.write(
        TfliteExporter.export(graph, ExportOptions.int8(ranges, ExportOptions.IoType.FLOAT))));
    float[] in = ranges.get("input").orElseThrow();
    assertExported(model, "input", new FakeQuantInputPreProcessor(in[0], in[1], null).params());
    float[] conv = ranges.get("conv1").orElseThrow();
    assertExported(model, "conv1", FakeQuantActivation.output(new ActivationReLU(), conv[0], conv[1]).outputParams());
    FakeQuantActivation out = new FakeQuantActivation(new ActivationSoftmax());
    float[] logits = ranges.get("out").orElseThrow();
    out.setInputRange(logits[0], logits[1]);
    float[] fixed = FakeQuantActivation.fixedOutputRange(new ActivationSoftmax());
    out.setOutputRange(fixed[0], fixed[1]);
    assertExported(model, "out", out.inputParams());
    assertExported(model, "out_softmax", out.outputParams());
  }

  private static void assertExported(TfliteModel model, String tensor, QuantParams p) {
    TfliteTensor t = model.tensor(model.tensorIndex(tensor));
    assertArrayEquals(new float[] {p.scale()}, t.quantization().scale(), tensor);
    assertArrayEquals(new long[] {p.zeroPoint()}, t.quantization().zeroPoint(), tensor);
  }

  @Test
  void gradientPassesInsideTheRangeAndIsZeroOutside() {
    QuantParams p = QuantParams.int8Activation(MIN, MAX);
    float[] x = probeValues(p);
    float lo = p.dequantize(-128);
    float hi = p.dequantize(127);
    float[] eps = new float[x.length];
    for (int i = 0; i < eps.length; i++) {
      eps[i] = 0.25f + i;
    }
    FakeQuantActivation fq = FakeQuantActivation.output(new ActivationIdentity(), MIN, MAX);
    float[] g = fq.backprop(Nd4j.createFromArray(x), Nd4j.createFromArray(eps)).getFirst().toFloatVector();
    int inside = 0;
    for (int i = 0; i < x.length; i++) {
      boolean in = x[i] >= lo && x[i] <= hi;
      inside += in ? 1 : 0;
      assertEquals(in ? eps[i] : 0f, in ? g[i] : Math.abs(g[i]), "x = " + x[i]);
    }
    assertEquals(11, inside, "probe values inside [lo, hi], edges included");

    // Through relu: the relu gradient below 0, the STE mask above the range.
    FakeQuantActivation relu = FakeQuantActivation.output(new ActivationReLU(), 0f, 3f);
    float[] rx = {-1f, 0.5f, 2.9f, 3.5f};
    float[] rg = relu.backprop(Nd4j.createFromArray(rx), Nd4j.ones(4).castTo(Nd4j.defaultFloatingPointType()))
        .getFirst().toFloatVector();
    assertArrayEquals(new float[] {0f, 1f, 1f, 0f}, rg);
  }

  @Test
  void inputRangeMasksThePreActivationGradient() {
    FakeQuantActivation fq = new FakeQuantActivation(new ActivationTanH());
    fq.setInputRange(-2f, 2f);
    QuantParams p = fq.inputParams();
    float[] x = {-3f, -1f, 0.4f, 1.9f, 2.5f};
    float[] g = fq.backprop(Nd4j.createFromArray(x), Nd4j.ones(5).castTo(Nd4j.defaultFloatingPointType()))
        .getFirst().toFloatVector();
    for (int i = 0; i < x.length; i++) {
      boolean in = x[i] >= p.dequantize(-128) && x[i] <= p.dequantize(127);
      double t = Math.tanh(p.dequantize(p.quantize(x[i], -128, 127)));
      assertEquals(in ? 1 - t * t : 0.0, g[i], 1e-6, "x = " + x[i]); // tanh' at the quantized pre-activation
    }
  }

  @Test
  void disabledEqualsTheWrappedActivationExactly() {
    float[] x = {-3f, -0.2f, 0.37f, 2.9f, 5.5f, 8f};
    for (IActivation a : new IActivation[] {new ActivationIdentity(), new ActivationReLU(), new ActivationReLU6(),
        new ActivationTanH(), new ActivationSigmoid(), new ActivationSoftmax()}) {
      FakeQuantActivation fq = FakeQuantActivation.output(a, -1f, 1f);
      fq.setInputRange(-1f, 1f);
      fq.setEnabled(false);
      INDArray in = Nd4j.createFromArray(x).reshape(2, 3);
      assertEquals(a.getActivation(in.dup(), true), fq.getActivation(in.dup(), true), a.toString());
      INDArray eps = Nd4j.createFromArray(new float[] {1f, -2f, 3f, 0.5f, 0.25f, -1f}).reshape(2, 3);
      assertEquals(a.backprop(in.dup(), eps.dup()).getFirst(), fq.backprop(in.dup(), eps.dup()).getFirst(),
          a.toString());
      fq.setEnabled(true);
      assertNotEquals(a.getActivation(in.dup(), true), fq.getActivation(in.dup(), true), a + " enabled");
    }
  }

  @Test
  void badRangesAreRejectedWhenSet() {
    FakeQuantActivation fq = new FakeQuantActivation(new ActivationReLU());
    assertThrows(IllegalArgumentException.class, () -> fq.setOutputRange(2f, 1f));
    assertThrows(IllegalArgumentException.class, () -> fq.setInputRange(Float.NaN, 1f));
  }

  /**
   * Through a network's gradient: dense (W = identity, b = 0, fake-quantized identity over [-1, 1]) then an identity
   * MSE output layer, batch of 1. The dense layer's bias gradient is {@code mask * (delta1 W1^T)}: unchanged for the
   * units inside the range, zero for those outside, and their weight columns get no gradient.
   */
  @Test
  void networkGradientIsMaskedOutsideTheRange() {
    int n = 4;
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(7).list()
        .layer(new DenseLayer.Builder().nIn(n).nOut(n)
            .activation(FakeQuantActivation.output(new ActivationIdentity(), -1f, 1f)).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(n).nOut(2).activation(Activation.IDENTITY)
            .build())
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    net.getLayer(0).setParam("W", Nd4j.eye(n).castTo(Nd4j.defaultFloatingPointType()));
    net.getLayer(0).setParam("b", Nd4j.zeros(Nd4j.defaultFloatingPointType(), 1, n));
    INDArray x = Nd4j.createFromArray(new float[][] {{0.5f, -0.3f, 3f, -5f}});
    INDArray y = Nd4j.createFromArray(new float[][] {{1f, -1f}});
    net.setInput(x);
    net.setLabels(y);
    net.computeGradientAndScore();
    INDArray db0 = net.gradient().getGradientFor("0_b");
    INDArray dW0 = net.gradient().getGradientFor("0_W");
    INDArray db1 = net.gradient().getGradientFor("1_b");
    INDArray w1 = net.getLayer(1).getParam("W");
    float[] passed = db1.reshape(1, 2).mmul(w1.transpose()).toFloatVector();
    float[] got = db0.toFloatVector();
    assertEquals(passed[0], got[0]);
    assertEquals(passed[1], got[1]);
    assertNotEquals(0f, got[0]);
    assertEquals(0f, Math.abs(got[2])); // masked: 0 or -0
    assertEquals(0f, Math.abs(got[3]));
    for (int i = 0; i < n; i++) {
      assertEquals(0f, Math.abs(dW0.getFloat(i, 2)));
      assertEquals(0f, Math.abs(dW0.getFloat(i, 3)));
    }
    assertNotEquals(0f, dW0.getFloat(0, 0));
  }
}
