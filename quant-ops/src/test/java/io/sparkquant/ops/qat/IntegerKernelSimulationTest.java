package io.sparkquant.ops.qat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.MinMaxRanges;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.Node;
import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.interp.TensorValue;
import io.sparkquant.ops.numerics.QuantParams;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The integer-kernel hooks ({@link FakeQuantActivation#setIntegerKernel}) against the bit-exact Java interpreter:
 * for random int8 inputs, each simulated CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED output equals the int8
 * tensor the interpreter computes from the exported model, dequantized, element for element. The biases are random
 * and not snapped to their int32 values, and the ranges are deliberately tight, so that rounding and the fused
 * clamps are exercised; the same network with the float fake quantizer instead must differ somewhere, or the test
 * would prove nothing.
 */
class IntegerKernelSimulationTest {

  private static final long SEED = 31;
  private static final int SIDE = 9;
  private static final int CHANNELS = 3;
  private static final int ROWS = 64;

  @Test
  void convDepthwiseAndDenseOutputsEqualTheInterpreters() {
    Nd4j.getRandom().setSeed(SEED);
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(SEED).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(6).convolutionMode(ConvolutionMode.Same)
            .activation(Activation.RELU).build())
        .layer(new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(2).stride(2, 2)
            .convolutionMode(ConvolutionMode.Truncate).activation(Activation.RELU6).build())
        .layer(new ConvolutionLayer.Builder(1, 1).nOut(5).activation(Activation.IDENTITY).build())
        .layer(new DenseLayer.Builder().nOut(7).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(4).activation(Activation.IDENTITY)
            .build())
        .setInputType(InputType.convolutional(SIDE, SIDE, CHANNELS))
        .build());
    net.init();
    Random random = new Random(SEED);
    for (int i = 0; i < net.getnLayers(); i++) {
      INDArray b = net.getLayer(i).getParam("b");
      for (long c = 0; c < b.length(); c++) {
        b.putScalar(c, (float) random.nextGaussian() * 0.3f);
      }
    }
    Graph graph = Dl4jImporter.importNetwork(net, new int[] {SIDE, SIDE, CHANNELS});
    float[] nhwc = new float[ROWS * SIDE * SIDE * CHANNELS];
    for (int i = 0; i < nhwc.length; i++) {
      nhwc[i] = random.nextFloat() * 2 - 0.5f;
    }
    ActivationRanges calibrated = MinMaxRanges.collect(graph, net,
        List.of(Nd4j.create(nhwc, new long[] {ROWS, SIDE, SIDE, CHANNELS}, 'c').permute(0, 3, 1, 2).dup('c'))
            .iterator());
    // 80% of each calibrated range: some outputs saturate, and relu6 clamps inside the range
    Map<String, float[]> tight = new java.util.LinkedHashMap<>();
    calibrated.asMap().forEach((t, r) -> tight.put(t, new float[] {0.8f * r[0], 0.8f * r[1]}));
    ActivationRanges ranges = ActivationRanges.of(tight, "test");
    QatNetwork qat = QatNetwork.build(graph, ranges, QatNetwork.Options.defaults());

    TfliteModel model = TfliteExporter.export(qat.writeBack(), ExportOptions.int8(qat.ranges(),
        ExportOptions.IoType.INT8));
    Interpreter interpreter = new Interpreter(model);
    TfliteTensor inputTensor = model.tensor(model.inputs()[0]);
    QuantParams inputParams = params(inputTensor);
    byte[] q = new byte[nhwc.length];
    float[] onGrid = new float[nhwc.length];
    for (int i = 0; i < q.length; i++) {
      q[i] = (byte) (random.nextInt(256) - 128);
      onGrid[i] = inputParams.dequantize(q[i]);
    }
    TensorValue[] all = interpreter.runAll(TensorValue.ofInt8(new int[] {ROWS, SIDE, SIDE, CHANNELS}, q));
    INDArray input = qat.toDl4jInput(onGrid, ROWS);

    int compared = 0;
    for (Node n : graph.nodes()) {
      if (!(n instanceof Node.Conv2D || n instanceof Node.DepthwiseConv2D || n instanceof Node.FullyConnected)) {
        continue;
      }
      String what = n.getClass().getSimpleName() + " '" + n.name() + "'";
      float[] deployed = dequantized(model, all, n.output());
      float[] simulated = simulated(qat, n, input);
      assertEquals(deployed.length, simulated.length, what);
      for (int i = 0; i < deployed.length; i++) {
        if (deployed[i] != simulated[i]) {
          throw new AssertionError(what + " element " + i + " of " + deployed.length + ": simulated "
              + simulated[i] + ", interpreter " + deployed[i]);
        }
      }
      compared++;
    }
    assertEquals(5, compared);

    // The float fake quantizer (no integer kernel) differs somewhere on the same inputs.
    int differences = 0;
    for (org.deeplearning4j.nn.conf.layers.Layer conf : FakeQuant.layerConfs(qat.network())) {
      FakeQuantActivation a = FakeQuant.activation(conf);
      if (a != null) {
        a.clearIntegerKernel();
      }
    }
    for (Node n : graph.nodes()) {
      if (n instanceof Node.Conv2D || n instanceof Node.DepthwiseConv2D || n instanceof Node.FullyConnected) {
        float[] deployed = dequantized(model, all, n.output());
        float[] simulated = simulated(qat, n, input);
        for (int i = 0; i < deployed.length; i++) {
          differences += deployed[i] != simulated[i] ? 1 : 0;
        }
      }
    }
    assertTrue(differences > 0, "the float fake quantizer agreed everywhere: the inputs do not exercise rounding");
  }

  /** The vertex output for node {@code n}, NCHW converted to NHWC (dense outputs are [N, C] either way). */
  private static float[] simulated(QatNetwork qat, Node n, INDArray input) {
    INDArray a = qat.network().feedForward(input, false).get(n.name());
    if (a.rank() == 4) {
      a = a.permute(0, 2, 3, 1);
    }
    return a.dup('c').castTo(DataType.FLOAT).reshape(-1).toFloatVector();
  }

  private static float[] dequantized(TfliteModel model, TensorValue[] all, String tensor) {
    int index = model.tensorIndex(tensor);
    QuantParams p = params(model.tensor(index));
    byte[] q = all[index].int8s();
    float[] out = new float[q.length];
    for (int i = 0; i < q.length; i++) {
      out[i] = p.dequantize(q[i]);
    }
    return out;
  }

  private static QuantParams params(TfliteTensor t) {
    return new QuantParams(t.quantization().scale()[0], (int) t.quantization().zeroPoint()[0]);
  }
}
