package io.sparkquant.ops.qat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Networks with fake-quant hooks against the same networks built from DL4J's own layers (the way DL4J checks a
 * custom layer against a built-in one, TestSameDiffDense): forward, gradients, training steps, minibatch sizes 1
 * and more; the JSON / ModelSerializer round trip; and a short fake-quant training run.
 */
class FakeQuantNetworkTest {

  private static final long SEED = 12345;
  private static final int H = 6;
  private static final int W = 6;
  private static final int CLASSES = 3;
  /** Hooks in each test network: the input, then activation and weights of each of three layers. */
  private static final int HOOKS = 7;
  /** Float rounding between DL4J's fused softmax-cross-entropy gradient and the chain rule through softmax. */
  private static final double SOFTMAX_CE_TOLERANCE = 1e-5;

  private static IActivation act(boolean hooks, IActivation a, float min, float max) {
    return hooks ? FakeQuantActivation.output(a, min, max) : a;
  }

  /** Output layer activation: softmax, with the logits fake-quantized (the exporter's FC output tensor). */
  private static IActivation softmax(boolean hooks) {
    if (!hooks) {
      return new ActivationSoftmax();
    }
    FakeQuantActivation a = new FakeQuantActivation(new ActivationSoftmax());
    a.setInputRange(-6f, 6f);
    return a;
  }

  /**
   * [input fake-quant] conv 3x3 relu - max pool - dense relu6 - softmax output, on 6x6x1.
   *
   * @param hookedOutput false: the output layer keeps DL4J's own ActivationSoftmax (weights still fake-quantized)
   */
  static MultiLayerConfiguration convConf(boolean hooks, boolean hookedOutput) {
    NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(SEED).updater(new Adam(0.01))
        .list();
    MultiLayerConfiguration conf = b
        .layer(new ConvolutionLayer.Builder(3, 3).name("conv").nOut(4).convolutionMode(ConvolutionMode.Same)
            .activation(act(hooks, new ActivationReLU(), 0f, 3f)).weightNoise(hooks ? new FakeQuantWeights() : null)
            .build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).name("pool").kernelSize(2, 2).stride(2, 2).build())
        .layer(new DenseLayer.Builder().name("fc").nOut(8).activation(act(hooks, new ActivationReLU6(), 0f, 6f))
            .weightNoise(hooks ? new FakeQuantWeights() : null).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(CLASSES)
            .activation(softmax(hooks && hookedOutput)).weightNoise(hooks ? new FakeQuantWeights() : null).build())
        .setInputType(InputType.convolutionalFlat(H, W, 1))
        .build();
    if (hooks) {
      FakeQuantInputPreProcessor.install(conf, -1f, 1f);
    }
    return conf;
  }

  /** [input fake-quant] dense tanh - dense relu - identity MSE output, on 10 features. */
  static MultiLayerConfiguration denseConf(boolean hooks) {
    NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(SEED).updater(new Adam(0.01))
        .list();
    FakeQuantActivation tanh = null;
    if (hooks) {
      tanh = new FakeQuantActivation(new ActivationTanH());
      tanh.setInputRange(-3f, 3f);
      float[] fixed = FakeQuantActivation.fixedOutputRange(new ActivationTanH());
      tanh.setOutputRange(fixed[0], fixed[1]);
    }
    MultiLayerConfiguration conf = b
        .layer(new DenseLayer.Builder().name("fc1").nOut(12).activation(hooks ? tanh : new ActivationTanH())
            .weightNoise(hooks ? new FakeQuantWeights() : null).build())
        .layer(new DenseLayer.Builder().name("fc2").nOut(8).activation(act(hooks, new ActivationReLU(), 0f, 4f))
            .weightNoise(hooks ? new FakeQuantWeights() : null).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).name("out").nOut(CLASSES)
            .activation(act(hooks, new org.nd4j.linalg.activations.impl.ActivationIdentity(), -4f, 4f))
            .weightNoise(hooks ? new FakeQuantWeights() : null).build())
        .setInputType(InputType.feedForward(10))
        .build();
    if (hooks) {
      FakeQuantInputPreProcessor.install(conf, -1f, 1f);
    }
    return conf;
  }

  private static MultiLayerNetwork net(MultiLayerConfiguration conf) {
    MultiLayerNetwork n = new MultiLayerNetwork(conf);
    n.init();
    return n;
  }

  private static DataSet data(int rows, int features, long seed) {
    Nd4j.getRandom().setSeed(seed);
    INDArray x = Nd4j.rand(DataType.FLOAT, rows, features).muli(2).subi(1);
    INDArray teacher = Nd4j.rand(DataType.FLOAT, features, CLASSES).subi(0.5);
    INDArray cls = x.mmul(teacher).argMax(1);
    INDArray y = Nd4j.zeros(DataType.FLOAT, rows, CLASSES);
    for (int r = 0; r < rows; r++) {
      y.putScalar(r, cls.getInt(r), 1f);
    }
    return new DataSet(x, y);
  }

  @Test
  void disabledHooksEqualBuiltInLayersConv() {
    checkDisabledEqualsBuiltIn(convConf(true, false), convConf(false, false), H * W, HOOKS - 1, 0.0);
  }

  /**
   * With the output softmax wrapped, DL4J's MCXENT loss no longer takes its fused {@code output - labels} gradient
   * (it does so only for its own ActivationSoftmax class) but the chain rule through the softmax Jacobian: the same
   * gradient up to float rounding. The forward pass stays bit-identical.
   */
  @Test
  void disabledHooksEqualBuiltInLayersConvWithWrappedSoftmax() {
    checkDisabledEqualsBuiltIn(convConf(true, true), convConf(false, false), H * W, HOOKS, SOFTMAX_CE_TOLERANCE);
  }

  @Test
  void disabledHooksEqualBuiltInLayersDense() {
    checkDisabledEqualsBuiltIn(denseConf(true), denseConf(false), 10, HOOKS, 0.0);
  }

  /**
   * Forward (bit-identical), score, gradients and three Adam steps (bit-identical, or within {@code tolerance}),
   * for minibatch sizes 1 and 5.
   */
  private static void checkDisabledEqualsBuiltIn(MultiLayerConfiguration hookedConf,
      MultiLayerConfiguration plainConf, int features, int hooks, double tolerance) {
    for (int batch : new int[] {1, 5}) {
      MultiLayerNetwork plain = net(plainConf.clone());
      MultiLayerNetwork hooked = net(hookedConf.clone());
      hooked.setParams(plain.params().dup());
      assertEquals(hooks, FakeQuant.setEnabled(hooked, false));
      DataSet ds = data(batch, features, SEED + batch);

      assertBitEqual(plain.output(ds.getFeatures(), false), hooked.output(ds.getFeatures(), false), "forward " + batch);

      plain.setInput(ds.getFeatures());
      plain.setLabels(ds.getLabels());
      plain.computeGradientAndScore();
      hooked.setInput(ds.getFeatures());
      hooked.setLabels(ds.getLabels());
      hooked.computeGradientAndScore();
      assertEquals(plain.score(), hooked.score(), tolerance, "score " + batch);
      assertClose(plain.gradient().gradient(), hooked.gradient().gradient(), tolerance, "gradient " + batch);

      for (int i = 0; i < 3; i++) {
        plain.fit(ds);
        hooked.fit(ds);
      }
      assertClose(plain.params(), hooked.params(), tolerance, "parameters after 3 steps, batch " + batch);
      assertNotEquals(net(plainConf.clone()).params(), plain.params(), "the steps moved the parameters");

      // The same network with simulation on computes something else: the comparison above is not vacuous.
      FakeQuant.setEnabled(hooked, true);
      assertNotEquals(plain.output(ds.getFeatures(), false), hooked.output(ds.getFeatures(), false));
    }
  }

  /** Element-wise identical float values (INDArray.equals allows a tolerance). */
  static void assertBitEqual(INDArray expected, INDArray actual, String what) {
    assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
    assertArrayEquals(expected.dup('c').castTo(DataType.FLOAT).reshape(-1).toFloatVector(),
        actual.dup('c').castTo(DataType.FLOAT).reshape(-1).toFloatVector(), what);
  }

  /** Bit-identical for {@code tolerance == 0}; else {@code |a - b| <= tolerance * max(1, |a|)} element-wise. */
  static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
    if (tolerance == 0.0) {
      assertBitEqual(expected, actual, what);
      return;
    }
    assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
    double[] e = expected.dup('c').castTo(DataType.DOUBLE).reshape(-1).toDoubleVector();
    double[] a = actual.dup('c').castTo(DataType.DOUBLE).reshape(-1).toDoubleVector();
    for (int i = 0; i < e.length; i++) {
      assertEquals(e[i], a[i], tolerance * Math.max(1.0, Math.abs(e[i])), what + " element " + i);
    }
  }

  @Test
  void jsonAndModelSerializerKeepTheHooksAndTheirRanges(@TempDir Path dir) throws IOException {
    MultiLayerNetwork net = net(convConf(true, true));
    // Ranges refreshed after init (as between epochs) must be what the network uses and what it saves.
    FakeQuantActivation conv = FakeQuant.activation(FakeQuant.layerConfs(net).get(0));
    assertNotNull(conv);
    conv.setOutputRange(-0.5f, 2.5f);
    FakeQuant.weights(FakeQuant.layerConfs(net).get(2)).setEnabled(false);
    FakeQuant.inputQuantizers(net).get(0).setRange(-0.75f, 1.25f);
    assertEquals(HOOKS, FakeQuant.inputQuantizers(net).size() + FakeQuant.layerConfs(net).stream()
        .mapToInt(l -> (FakeQuant.activation(l) != null ? 1 : 0) + (FakeQuant.weights(l) != null ? 1 : 0)).sum());

    String json = net.getLayerWiseConfigurations().toJson();
    MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
    assertEquals(net.getLayerWiseConfigurations(), back);
    FakeQuantActivation convBack = (FakeQuantActivation) ((BaseLayer) back.getConf(0).getLayer()).getActivationFn();
    assertArrayEquals(new float[] {-0.5f, 2.5f}, convBack.getOutputRange());
    assertTrue(convBack.getWrapped() instanceof ActivationReLU);
    FakeQuantActivation outBack = (FakeQuantActivation) ((BaseLayer) back.getConf(3).getLayer()).getActivationFn();
    assertArrayEquals(new float[] {-6f, 6f}, outBack.getInputRange());
    assertEquals(null, outBack.getOutputRange());
    assertEquals(false, ((FakeQuantWeights) ((BaseLayer) back.getConf(2).getLayer()).getWeightNoise()).isEnabled());
    FakeQuantInputPreProcessor inBack = (FakeQuantInputPreProcessor) back.getInputPreProcess(0);
    assertArrayEquals(new float[] {-0.75f, 1.25f}, inBack.getRange());
    assertTrue(inBack.getInner() instanceof FeedForwardToCnnPreProcessor, String.valueOf(inBack.getInner()));

    File zip = dir.resolve("net.zip").toFile();
    ModelSerializer.writeModel(net, zip, true);
    MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(zip, true);
    assertEquals(net.getLayerWiseConfigurations(), restored.getLayerWiseConfigurations());
    INDArray x = data(4, H * W, 3).getFeatures();
    assertBitEqual(net.output(x, false), restored.output(x, false), "restored output");
    assertTrue(Files.size(zip.toPath()) > 0);
  }

  /**
   * Fake-quant training on a tiny seeded dataset (ranges from a float calibration pass, as a calibration table gives
   * them): the loss falls and the float weights move, so the straight-through estimator passes gradients.
   */
  @Test
  void fakeQuantTrainingReducesTheLoss() {
    MultiLayerNetwork net = net(convConf(true, true));
    DataSet ds = data(64, H * W, 99);
    calibrate(net, ds.getFeatures());
    INDArray w0 = net.getLayer(0).getParam("W").dup();
    net.setInput(ds.getFeatures());
    net.setLabels(ds.getLabels());
    net.computeGradientAndScore();
    double before = net.score();
    for (int i = 0; i < 60; i++) {
      net.fit(ds);
    }
    net.computeGradientAndScore();
    double after = net.score();
    assertTrue(Double.isFinite(after) && after < 0.6 * before, "loss " + before + " -> " + after);
    assertNotEquals(w0, net.getLayer(0).getParam("W"), "conv weights moved");
    // The conv output is quantized: its values sit on the int8 grid of its range.
    FakeQuantActivation conv = FakeQuant.activation(FakeQuant.layerConfs(net).get(0));
    float[] acts = net.feedForward(ds.getFeatures(), false).get(1).dup('c').reshape(-1).toFloatVector();
    for (float a : acts) {
      assertEquals(a, conv.outputParams().dequantize(conv.outputParams().quantize(a, -128, 127)));
    }
  }

  /** Sets each hook's range from the float network's min/max on {@code x} (logits for the output layer). */
  private static void calibrate(MultiLayerNetwork net, INDArray x) {
    FakeQuant.setEnabled(net, false);
    List<INDArray> acts = net.feedForward(x, false);
    FakeQuant.inputQuantizers(net).get(0).setRange(x.minNumber().floatValue(), x.maxNumber().floatValue());
    List<Layer> confs = FakeQuant.layerConfs(net);
    for (int i = 0; i < confs.size(); i++) {
      FakeQuantActivation a = FakeQuant.activation(confs.get(i));
      if (a == null) {
        continue;
      }
      if (a.getInputRange() != null) {
        INDArray logits = acts.get(i).mmul(net.getLayer(i).getParam("W")).addiRowVector(net.getLayer(i).getParam("b"));
        a.setInputRange(logits.minNumber().floatValue(), logits.maxNumber().floatValue());
      } else {
        a.setOutputRange(acts.get(i + 1).minNumber().floatValue(), acts.get(i + 1).maxNumber().floatValue());
      }
    }
    FakeQuant.setEnabled(net, true);
  }
}
