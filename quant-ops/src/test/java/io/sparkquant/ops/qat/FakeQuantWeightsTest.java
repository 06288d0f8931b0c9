package io.sparkquant.ops.qat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.MinMaxRanges;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.numerics.QuantParams;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.CnnLossLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.weightnoise.IWeightNoise;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** The weight fake-quantizer against the int8 weights and scales TfliteExporter actually writes. */
class FakeQuantWeightsTest {

  private static final long SEED = 42;

  /** conv, depthwise (multiplier 2), separable (multiplier 2), global average pool, dense, output; 8x8x3 input. */
  static MultiLayerNetwork convNet(IWeightNoise noise) {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(SEED).list()
        .layer(new ConvolutionLayer.Builder(3, 3).name("conv1").nOut(4).activation(Activation.RELU)
            .convolutionMode(ConvolutionMode.Same).weightNoise(noise).build())
        .layer(new DepthwiseConvolution2D.Builder(3, 3).name("dw").depthMultiplier(2).activation(Activation.RELU6)
            .convolutionMode(ConvolutionMode.Truncate).weightNoise(noise).build())
        .layer(new SeparableConvolution2D.Builder(3, 3).name("sep").nOut(5).depthMultiplier(2)
            .activation(Activation.RELU).convolutionMode(ConvolutionMode.Same).weightNoise(noise).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).name("gap").build())
        .layer(new DenseLayer.Builder().name("fc").nOut(6).activation(Activation.RELU).weightNoise(noise).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(3)
            .activation(Activation.SOFTMAX).weightNoise(noise).build())
        .setInputType(InputType.convolutionalFlat(8, 8, 3))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    return net;
  }

  private static INDArray fakeQuantized(MultiLayerNetwork net, int layer, String param, FakeQuantWeights hook) {
    return hook.getParameter(net.getLayer(layer), param, 0, 0, false, LayerWorkspaceMgr.noWorkspaces());
  }

  private static float[] floats(INDArray a) {
    return a.dup('c').castTo(DataType.FLOAT).reshape(a.length()).toFloatVector();
  }

  /**
   * Exports the float network (no hooks) as INT8 with TfliteExporter, reads the .tflite back, and checks that the
   * hook's weights are {@code scale[c] * q} for the exported int8 {@code q} and per-channel {@code scale}, bit for bit.
   */
  @Test
  void fakeQuantizedWeightsEqualTheExportedInt8WeightsTimesTheirScales() {
    MultiLayerNetwork net = convNet(null);
    Graph graph = Dl4jImporter.importNetwork(net);
    INDArray batch = Nd4j.rand(DataType.FLOAT, 6, 8 * 8 * 3).subi(0.5);
    ActivationRanges ranges = MinMaxRanges.collect(graph, net, List.of(batch).iterator());
    TfliteModel model = TfliteReader.read(TfliteWriter.write(
        TfliteExporter.export(graph, ExportOptions.int8(ranges, ExportOptions.IoType.FLOAT))));
    FakeQuantWeights hook = new FakeQuantWeights();

    // DL4J layouts to the exported ones, as Dl4jImporter transposes them.
    checkAgainstExport(model, "conv1", fakeQuantized(net, 0, "W", hook).permute(0, 2, 3, 1), 4);
    checkAgainstExport(model, "dw", fakeQuantized(net, 1, "W", hook), 8);
    checkAgainstExport(model, "sep_depthwise", fakeQuantized(net, 2, "W", hook).permute(2, 3, 1, 0), 16);
    checkAgainstExport(model, "sep", fakeQuantized(net, 2, "pW", hook).permute(0, 2, 3, 1), 5);
    checkAgainstExport(model, "fc", fakeQuantized(net, 4, "W", hook).transpose(), 1);
    checkAgainstExport(model, "out", fakeQuantized(net, 5, "W", hook).transpose(), 1);
  }

  private static void checkAgainstExport(TfliteModel model, String node, INDArray simulated, int channels) {
    TfliteTensor t = model.tensor(model.tensorIndex(node + "/weights"));
    assertEquals(TensorType.INT8, t.type(), node);
    float[] scales = t.quantization().scale();
    assertEquals(channels, scales.length, node + " scales");
    int axis = t.quantization().quantizedDimension();
    int[] shape = t.shape();
    int inner = 1;
    for (int i = axis + 1; i < shape.length; i++) {
      inner *= shape[i];
    }
    byte[] q = t.data();
    float[] sim = floats(simulated);
    assertEquals(q.length, sim.length, node);
    int nonZero = 0;
    for (int i = 0; i < q.length; i++) {
      int c = channels == 1 ? 0 : (i / inner) % shape[axis];
      float expected = new QuantParams(scales[c], 0).dequantize(q[i]);
      assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(sim[i]), node + " element " + i);
      nonZero += q[i] != 0 ? 1 : 0;
    }
    assertTrue(nonZero > q.length / 2, node + ": the comparison must see real weights");
  }

  @Test
  void perTensorUsesOneScaleForTheWholeTensor() {
    MultiLayerNetwork net = convNet(null);
    INDArray w = net.getLayer(0).getParam("W");
    float[] raw = floats(w);
    float absMax = 0f;
    for (float v : raw) {
      absMax = Math.max(absMax, Math.abs(v));
    }
    QuantParams p = new QuantParams(QuantParams.int8WeightScale(absMax), 0);
    float[] sim = floats(fakeQuantized(net, 0, "W", new FakeQuantWeights(true)));
    for (int i = 0; i < raw.length; i++) {
      assertEquals(p.dequantize(p.quantize(raw[i], -127, 127)), sim[i], "element " + i);
    }
    // Per channel differs from per tensor on this layer (its channels have different ranges).
    assertNotEquals(Nd4j.createFromArray(sim), Nd4j.createFromArray(floats(fakeQuantized(net, 0, "W",
        new FakeQuantWeights()))));
  }

  @Test
  void biasAndDisabledHooksReturnTheFloatParameter() {
    MultiLayerNetwork net = convNet(null);
    FakeQuantWeights hook = new FakeQuantWeights();
    assertSame(net.getLayer(0).getParam("b"), fakeQuantized(net, 0, "b", hook));
    hook.setEnabled(false);
    assertSame(net.getLayer(0).getParam("W"), fakeQuantized(net, 0, "W", hook));
  }

  /** The layer computes with the quantized W: same output as a hook-free network holding dequantize(quantize(W)). */
  @Test
  void networkForwardUsesTheFakeQuantizedWeights() {
    MultiLayerNetwork hooked = convNet(new FakeQuantWeights());
    MultiLayerNetwork plain = convNet(null);
    plain.setParams(hooked.params().dup());
    FakeQuantWeights hook = new FakeQuantWeights();
    int[][] weights = {{0}, {1}, {2}, {4}, {5}};
    for (int[] l : weights) {
      plain.getLayer(l[0]).setParam("W", fakeQuantized(hooked, l[0], "W", hook));
    }
    plain.getLayer(2).setParam("pW", fakeQuantized(hooked, 2, "pW", hook));
    INDArray x = Nd4j.rand(DataType.FLOAT, 3, 8 * 8 * 3);
    FakeQuantNetworkTest.assertBitEqual(plain.output(x, false), hooked.output(x, false), "forward");
    assertNotEquals(convNetOutputWithoutHooks(hooked, x), hooked.output(x, false));
  }

  /**
   * Straight-through estimator: the gradient the hooked network applies to its float W is the gradient of the loss
   * at the quantized W, i.e. exactly the gradient of a hook-free network holding dequantize(quantize(W)).
   */
  @Test
  void gradientIsTheGradientAtTheFakeQuantizedWeights() {
    MultiLayerNetwork hooked = convNet(new FakeQuantWeights());
    MultiLayerNetwork plain = convNet(null);
    plain.setParams(hooked.params().dup());
    FakeQuantWeights hook = new FakeQuantWeights();
    for (int l : new int[] {0, 1, 2, 4, 5}) {
      plain.getLayer(l).setParam("W", fakeQuantized(hooked, l, "W", hook));
    }
    plain.getLayer(2).setParam("pW", fakeQuantized(hooked, 2, "pW", hook));
    Nd4j.getRandom().setSeed(SEED);
    INDArray x = Nd4j.rand(DataType.FLOAT, 4, 8 * 8 * 3);
    INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 3);
    for (int r = 0; r < 4; r++) {
      y.putScalar(r, r % 3, 1f);
    }
    for (MultiLayerNetwork n : new MultiLayerNetwork[] {hooked, plain}) {
      n.setInput(x);
      n.setLabels(y);
      n.computeGradientAndScore();
    }
    FakeQuantNetworkTest.assertBitEqual(plain.gradient().gradient(), hooked.gradient().gradient(), "gradient");
    INDArray w = hooked.getLayer(0).getParam("W").dup();
    hooked.fit(new org.nd4j.linalg.dataset.DataSet(x, y));
    float[] before = floats(w);
    float[] after = floats(hooked.getLayer(0).getParam("W"));
    int moved = 0;
    for (int i = 0; i < before.length; i++) {
      moved += before[i] != after[i] ? 1 : 0;
    }
    assertTrue(moved > before.length / 2, "the update lands on the float W: " + moved + " of " + before.length);
  }

  private static INDArray convNetOutputWithoutHooks(MultiLayerNetwork hooked, INDArray x) {
    MultiLayerNetwork plain = convNet(null);
    plain.setParams(hooked.params().dup());
    return plain.output(x, false);
  }

  @Test
  void aLayerTheExporterDoesNotQuantizeThisWayIsNamed() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(SEED).list()
        .layer(new Deconvolution2D.Builder(2, 2).name("deconv").nOut(2).weightNoise(new FakeQuantWeights()).build())
        .layer(new CnnLossLayer.Builder(LossFunctions.LossFunction.MSE).activation(Activation.IDENTITY).build())
        .setInputType(InputType.convolutional(4, 4, 1))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> net.output(Nd4j.rand(DataType.FLOAT, 1, 1, 4, 4)));
    assertTrue(e.getMessage().contains("'deconv' (Deconvolution2D)"), e.getMessage());
  }

  @Test
  void batchNormAfterAFakeQuantizedLayerIsRejected() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(SEED).list()
        .layer(new DenseLayer.Builder().name("fc1").nIn(4).nOut(3).weightNoise(new FakeQuantWeights()).build())
        .layer(new BatchNormalization.Builder().name("bn").build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(2).activation(Activation.IDENTITY)
            .build())
        .setInputType(InputType.feedForward(4))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FakeQuant.requireFoldedBatchNorm(net));
    assertTrue(e.getMessage().contains("'fc1'") && e.getMessage().contains("'bn'"), e.getMessage());
    FakeQuant.requireFoldedBatchNorm(convNet(new FakeQuantWeights()));
  }
}
