package io.sparkquant.ops.qat;

import static io.sparkquant.ops.qat.FakeQuantNetworkTest.assertBitEqual;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.numerics.QuantParams;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The hooks in a ComputationGraph with a residual ADD: ops without an activation function of their own (the ADD,
 * global average pooling) get their own output range through an identity ActivationLayer with a FakeQuantActivation.
 */
class FakeQuantGraphTest {

  private static final long SEED = 777;
  /** input (one consumer), conv1 and conv2 (activation and weights), add, gap, output weights. */
  private static final int HOOKS = 8;

  private static IActivation act(boolean hooks, IActivation a, float min, float max) {
    return hooks ? FakeQuantActivation.output(a, min, max) : a;
  }

  private static ActivationLayer fakeQuantIdentity(float min, float max) {
    return new ActivationLayer.Builder()
        .activation(FakeQuantActivation.output(new ActivationIdentity(), min, max)).build();
  }

  static ComputationGraphConfiguration graphConf(boolean hooks) {
    ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(SEED)
        .updater(new Adam(0.01)).graphBuilder()
        .addInputs("in")
        .addLayer("conv1", new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same)
            .activation(act(hooks, new ActivationReLU(), 0f, 3f)).weightNoise(hooks ? new FakeQuantWeights() : null)
            .build(), "in")
        .addLayer("conv2", new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same)
            .activation(act(hooks, new ActivationIdentity(), -3f, 3f))
            .weightNoise(hooks ? new FakeQuantWeights() : null).build(), "conv1")
        .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "conv1", "conv2");
    String last = "add";
    if (hooks) {
      g.addLayer("add_fq", fakeQuantIdentity(-4f, 4f), "add");
      last = "add_fq";
    }
    g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), last);
    last = "gap";
    if (hooks) {
      g.addLayer("gap_fq", fakeQuantIdentity(-2f, 2f), "gap");
      last = "gap_fq";
    }
    ComputationGraphConfiguration conf = g
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(new ActivationSoftmax()).weightNoise(hooks ? new FakeQuantWeights() : null).build(), last)
        .setOutputs("out")
        .setInputTypes(InputType.convolutional(6, 6, 1))
        .build();
    if (hooks) {
      assertEquals(1, FakeQuantInputPreProcessor.install(conf, -1f, 1f).size());
    }
    return conf;
  }

  private static ComputationGraph graph(ComputationGraphConfiguration conf) {
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    return g;
  }

  private static DataSet data(int rows) {
    Nd4j.getRandom().setSeed(SEED + rows);
    INDArray x = Nd4j.rand(DataType.FLOAT, rows, 1, 6, 6).muli(2).subi(1);
    INDArray y = Nd4j.zeros(DataType.FLOAT, rows, 3);
    for (int r = 0; r < rows; r++) {
      y.putScalar(r, r % 3, 1f);
    }
    return new DataSet(x, y);
  }

  @Test
  void disabledHooksEqualBuiltInLayers() {
    for (int batch : new int[] {1, 4}) {
      ComputationGraph plain = graph(graphConf(false));
      ComputationGraph hooked = graph(graphConf(true));
      hooked.setParams(plain.params().dup());
      assertEquals(HOOKS, FakeQuant.setEnabled(hooked, false));
      DataSet ds = data(batch);
      assertBitEqual(plain.outputSingle(ds.getFeatures()), hooked.outputSingle(ds.getFeatures()), "forward");
      plain.setInputs(ds.getFeatures());
      plain.setLabels(ds.getLabels());
      plain.computeGradientAndScore();
      hooked.setInputs(ds.getFeatures());
      hooked.setLabels(ds.getLabels());
      hooked.computeGradientAndScore();
      assertEquals(plain.score(), hooked.score(), 0.0, "score");
      assertBitEqual(plain.gradient().gradient(), hooked.gradient().gradient(), "gradient " + batch);
      for (int i = 0; i < 3; i++) {
        plain.fit(ds);
        hooked.fit(ds);
      }
      assertBitEqual(plain.params(), hooked.params(), "parameters after 3 steps, batch " + batch);
      FakeQuant.setEnabled(hooked, true);
      assertNotEquals(plain.outputSingle(ds.getFeatures()), hooked.outputSingle(ds.getFeatures()));
    }
  }

  @Test
  void residualAddOutputIsOnItsOwnGridAndTheConfigurationRoundTrips() {
    ComputationGraphConfiguration conf = graphConf(true);
    assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()));
    ComputationGraph g = graph(conf);
    assertEquals(1, FakeQuant.setInputRange(g, -0.9f, 0.9f));
    Map<String, INDArray> acts = g.feedForward(data(4).getFeatures(), false);
    QuantParams add = QuantParams.int8Activation(-4f, 4f);
    float[] v = acts.get("add_fq").dup('c').reshape(-1).toFloatVector();
    int nonZero = 0;
    for (float a : v) {
      assertEquals(a, add.dequantize(add.quantize(a, -128, 127)));
      nonZero += a != 0f ? 1 : 0;
    }
    assertTrue(nonZero > v.length / 2);
  }

  @Test
  void aNonLayerVertexReadingTheInputCannotBeFakeQuantized() {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().graphBuilder()
        .addInputs("in")
        .addLayer("a", new ActivationLayer.Builder().activation(new ActivationIdentity()).build(), "in")
        .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "in", "a")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
            .activation(new ActivationIdentity()).build(), "add")
        .setOutputs("out")
        .setInputTypes(InputType.feedForward(4))
        .build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FakeQuantInputPreProcessor.install(conf, -1f, 1f));
    assertTrue(e.getMessage().contains("'add'"), e.getMessage());
  }
}
