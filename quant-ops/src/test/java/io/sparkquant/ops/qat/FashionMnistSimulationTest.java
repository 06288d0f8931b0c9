package io.sparkquant.ops.qat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.FashionMnistIdx;
import io.sparkquant.ops.export.MinMaxRanges;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Simulation equals deployment on the full Fashion-MNIST test set (issue 10): a QAT network's simulated top-1 (the
 * fake-quant DL4J network, softmax output quantized as deployed) against the int8 .tflite exported from its
 * written-back weights and its own ranges, run by TFLite 2.6.2, on all 10,000 test rows. Two small models shaped
 * like the presets (BatchNorm folded by the importer): a cnn-like conv-BN-pool net and a micro-like
 * depthwise-separable net with global average pooling (exported as MEAN), each trained for one epoch on 4,000
 * training rows in plain DL4J, calibrated (min/max, 1,000 rows), fine-tuned for {@value #QAT_STEPS} steps, biases
 * snapped to their exported int32 values. Measured 2026-12-06, cnn-like: 10,000/10,000 rows agree (9,986 with the
 * float biases), identical probabilities on 9,993, accuracy 75.59% both; 326 s on a machine loaded 20-fold.
 */
class FashionMnistSimulationTest {

  private static final int CLASSES = 10;
  private static final int TRAIN_ROWS = 4000;
  private static final int CALIBRATION_ROWS = 1000;
  private static final int QAT_ROWS = 2000;
  private static final int BATCH = 50;
  private static final int QAT_STEPS = 40;
  /** The depthwise-separable net learns slower: one epoch left it at 58% with flat, near-tied probabilities. */
  private static final int MICRO_EPOCHS = 3;
  private static final int EVAL_BATCH = 500;
  private static final double MIN_TOP1_AGREEMENT = 0.998;
  private static final double MAX_ACCURACY_GAP_POINTS = 0.05;
  /** The float models must have learned something for agreement to mean anything. */
  private static final double MIN_ACCURACY = 0.6;

  private static float[][] trainX;
  private static int[] trainY;
  private static float[][] testX;
  private static int[] testY;

  @BeforeAll
  static void data() throws IOException {
    FashionMnistIdx.assumeInstalled();
    trainX = FashionMnistIdx.images(FashionMnistIdx.DIR.resolve(FashionMnistIdx.TRAIN_IMAGES), TRAIN_ROWS);
    trainY = FashionMnistIdx.labels(FashionMnistIdx.DIR.resolve(FashionMnistIdx.TRAIN_LABELS), TRAIN_ROWS);
    testX = FashionMnistIdx.images(FashionMnistIdx.DIR.resolve(FashionMnistIdx.TEST_IMAGES), Integer.MAX_VALUE);
    testY = FashionMnistIdx.labels(FashionMnistIdx.DIR.resolve(FashionMnistIdx.TEST_LABELS), Integer.MAX_VALUE);
  }

  @Test
  void cnnLike() {
    assertSimulationEqualsDeployment("cnn-like", 1, new NeuralNetConfiguration.Builder().seed(7)
        .weightInit(WeightInit.RELU).updater(new Adam(2e-3)).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(8).activation(Activation.IDENTITY).build())
        .layer(new BatchNormalization.Builder().build())
        .layer(new ActivationLayer.Builder().activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(16).activation(Activation.IDENTITY).build())
        .layer(new BatchNormalization.Builder().build())
        .layer(new ActivationLayer.Builder().activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new DenseLayer.Builder().nOut(32).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(CLASSES)
            .activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutionalFlat(28, 28, 1))
        .build());
  }

  /**
   * Measured 2026-12-06 with the float fake quantizer on conv/depthwise/dense outputs (3 epochs, 66.8% accuracy):
   * top-1 agreement 9,960/10,000 (99.60%), below issue 10's 99.8%; every disagreeing row was one int8 step of the
   * logits from the requantization that quantizer did not model (TFLite's double rounding in
   * MultiplyByQuantizedMultiplier). The hooks now simulate the integer kernels (IntegerKernelSimulationTest); the
   * figures with them are not measured yet (README). It took 35 minutes on a loaded machine, long for
   * {@code mvn verify}.
   */
  @Test
  void microLike() {
    NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder().seed(7)
        .weightInit(WeightInit.RELU).updater(new Adam(5e-3)).convolutionMode(ConvolutionMode.Same).list()
        .layer(new ConvolutionLayer.Builder(3, 3).stride(2, 2).nOut(8).activation(Activation.IDENTITY).build())
        .layer(new BatchNormalization.Builder().build())
        .layer(new ActivationLayer.Builder().activation(Activation.RELU).build());
    for (int[] b : new int[][] {{16, 1}, {32, 2}}) { // pointwise channels, depthwise stride
      list.layer(new DepthwiseConvolution2D.Builder(3, 3).stride(b[1], b[1]).depthMultiplier(1)
              .activation(Activation.IDENTITY).build())
          .layer(new BatchNormalization.Builder().build())
          .layer(new ActivationLayer.Builder().activation(Activation.RELU).build())
          .layer(new ConvolutionLayer.Builder(1, 1).nOut(b[0]).activation(Activation.IDENTITY).build())
          .layer(new BatchNormalization.Builder().build())
          .layer(new ActivationLayer.Builder().activation(Activation.RELU).build());
    }
    assertSimulationEqualsDeployment("micro-like", MICRO_EPOCHS, list
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(CLASSES)
            .activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutionalFlat(28, 28, 1))
        .build());
  }

  private static void assertSimulationEqualsDeployment(String name, int epochs, MultiLayerConfiguration conf) {
    long start = System.nanoTime();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    for (int e = 0; e < epochs; e++) {
      for (int s = 0; s < TRAIN_ROWS; s += BATCH) {
        net.fit(batch(s, BATCH));
      }
    }
    Graph graph = Dl4jImporter.importNetwork(net);
    List<INDArray> calibration = new ArrayList<>();
    for (int s = 0; s < CALIBRATION_ROWS; s += EVAL_BATCH) {
      calibration.add(rows(trainX, s, EVAL_BATCH));
    }
    ActivationRanges ranges = MinMaxRanges.collect(graph, net, calibration.iterator());

    QatNetwork qat = QatNetwork.build(graph, ranges, QatNetwork.Options.defaults().withUpdater(new Adam(1e-4)));
    for (int step = 0; step < QAT_STEPS; step++) {
      qat.network().fit(batch((step * BATCH) % QAT_ROWS, BATCH));
    }
    long trained = System.nanoTime();
    ExportOptions int8 = ExportOptions.int8(qat.ranges(), ExportOptions.IoType.FLOAT);
    byte[] tflite = TfliteWriter.write(TfliteExporter.export(qat.writeBack(), int8));

    qat.setSoftmaxOutputQuantized(true); // the deployed output: int8 probabilities at (1/256, -128)
    float[] floatBiases = simulate(qat);
    double moved = qat.snapBiasesToExport(int8);
    assertArrayEquals(tflite, TfliteWriter.write(TfliteExporter.export(qat.writeBack(), int8)),
        name + ": snapping the biases changed the exported model");
    assertTrue(moved > 0 && moved <= 0.5, name + ": largest bias change " + moved + " int32 steps");
    float[] simulated = simulate(qat);
    qat.setSoftmaxOutputQuantized(false);
    float[] deployed = new float[simulated.length];
    try (TfliteRuntime rt = TfliteRuntime.create(tflite, 1)) {
      rt.resizeBatch(EVAL_BATCH);
      for (int s = 0; s < testX.length; s += EVAL_BATCH) {
        float[] dep = (float[]) rt.run((Object) rows(testX, s, EVAL_BATCH).reshape(-1).toFloatVector())[0];
        System.arraycopy(dep, 0, deployed, s * CLASSES, dep.length);
      }
    }

    int n = testX.length;
    int agreeFloatBiases = 0;
    for (int r = 0; r < n; r++) {
      agreeFloatBiases += argMax(floatBiases, r) == argMax(deployed, r) ? 1 : 0;
    }
    int agree = 0;
    int simCorrect = 0;
    int depCorrect = 0;
    int identicalRows = 0;
    StringBuilder misses = new StringBuilder();
    for (int r = 0; r < n; r++) {
      int sim = argMax(simulated, r);
      int dep = argMax(deployed, r);
      agree += sim == dep ? 1 : 0;
      simCorrect += sim == testY[r] ? 1 : 0;
      depCorrect += dep == testY[r] ? 1 : 0;
      boolean identical = true;
      for (int k = 0; k < CLASSES; k++) {
        identical &= simulated[r * CLASSES + k] == deployed[r * CLASSES + k];
      }
      identicalRows += identical ? 1 : 0;
      if (sim != dep) {
        misses.append(String.format("%n  row %d label %d: simulated %d (p %s), int8 %d (p %s)", r, testY[r], sim,
            probabilities(simulated, r, sim, dep), dep, probabilities(deployed, r, sim, dep)));
      }
    }
    double agreement = agree / (double) n;
    double simAccuracy = 100.0 * simCorrect / n;
    double depAccuracy = 100.0 * depCorrect / n;
    String report = String.format("%s on the %d Fashion-MNIST test rows: top-1 agreement simulated vs TFLite 2.6.2 "
        + "int8 %d/%d (%.2f%%), identical probabilities on %d rows; accuracy simulated %.2f%%, int8 %.2f%% "
        + "(gap %.2f pt); with float biases (not snapped) top-1 agreement %d/%d; training %.1f s, evaluation %.1f s; "
        + "rows that disagree:%s", name, n, agree, n, 100 * agreement, identicalRows, simAccuracy, depAccuracy,
        Math.abs(simAccuracy - depAccuracy), agreeFloatBiases, n, (trained - start) / 1e9,
        (System.nanoTime() - trained) / 1e9, misses);
    System.out.println(report);
    assertTrue(depAccuracy >= 100 * MIN_ACCURACY, report);
    assertTrue(agreement >= MIN_TOP1_AGREEMENT, report);
    assertTrue(Math.abs(simAccuracy - depAccuracy) <= MAX_ACCURACY_GAP_POINTS, report);
  }

  /** The simulated probabilities of every test row. */
  private static float[] simulate(QatNetwork qat) {
    float[] out = new float[testX.length * CLASSES];
    for (int s = 0; s < testX.length; s += EVAL_BATCH) {
      float[] p = qat.network().outputSingle(false, rows(testX, s, EVAL_BATCH)).dup('c').castTo(DataType.FLOAT)
          .reshape(-1).toFloatVector();
      System.arraycopy(p, 0, out, s * CLASSES, p.length);
    }
    return out;
  }

  /** The probabilities of classes {@code a} and {@code b} in int8 output steps (256 * p). */
  private static String probabilities(float[] p, int row, int a, int b) {
    return String.format("%s=%.0f/256, %s=%.0f/256", a, 256 * p[row * CLASSES + a], b, 256 * p[row * CLASSES + b]);
  }

  private static DataSet batch(int start, int n) {
    INDArray labels = Nd4j.zeros(DataType.FLOAT, n, CLASSES);
    for (int i = 0; i < n; i++) {
      labels.putScalar(i, trainY[start + i], 1f);
    }
    return new DataSet(rows(trainX, start, n), labels);
  }

  /** Rows {@code [start, start + n)} as DL4J's convolutionalFlat input, which for one channel is NHWC too. */
  private static INDArray rows(float[][] x, int start, int n) {
    float[][] r = new float[n][];
    System.arraycopy(x, start, r, 0, n);
    return Nd4j.create(r);
  }

  /** The first index of the largest value, as an argmax over the deployed probabilities breaks ties. */
  private static int argMax(float[] v, int row) {
    int best = 0;
    for (int k = 1; k < CLASSES; k++) {
      if (v[row * CLASSES + k] > v[row * CLASSES + best]) {
        best = k;
      }
    }
    return best;
  }
}
