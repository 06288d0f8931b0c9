package io.sparkquant.ops.export;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.tflite.TfliteWriter;
import io.sparkquant.ops.tflite.TfliteRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A conv-pool-conv-pool-dense CNN trained for one epoch on 4,000 Fashion-MNIST rows; full int8 export (float I/O,
 * min/max ranges from 500 training rows) must keep test top-1 within 1 point of the float32 export in the real
 * TFLite runtime, with a file at most 26% of the float32 file.
 */
class FashionMnistInt8Test {

  private static final Logger LOG = LoggerFactory.getLogger(FashionMnistInt8Test.class);
  static final Path DATA = FashionMnistIdx.DIR;
  static final int TRAIN_ROWS = 4000;
  static final int CALIBRATION_ROWS = 500;
  static final int TEST_ROWS = 1000;
  static final double MAX_TOP1_DROP_POINTS = 1.0;
  static final double MAX_SIZE_RATIO = 0.26;

  @Test
  void int8KeepsTop1WithinOnePointAndQuartersTheFile() throws IOException {
    FashionMnistIdx.assumeInstalled();
    float[][] trainX = FashionMnistIdx.images(DATA.resolve("train-images-idx3-ubyte.gz"), TRAIN_ROWS);
    int[] trainY = FashionMnistIdx.labels(DATA.resolve("train-labels-idx1-ubyte.gz"), TRAIN_ROWS);
    float[][] testX = FashionMnistIdx.images(DATA.resolve("t10k-images-idx3-ubyte.gz"), TEST_ROWS);
    int[] testY = FashionMnistIdx.labels(DATA.resolve("t10k-labels-idx1-ubyte.gz"), TEST_ROWS);

    MultiLayerNetwork net = trainedOrCached(trainX, trainY);
    Graph graph = Dl4jImporter.importNetwork(net);

    List<INDArray> calibration = new ArrayList<>();
    for (int start = 0; start < CALIBRATION_ROWS; start += 100) {
      calibration.add(batch(trainX, start, 100));
    }
    ActivationRanges ranges = MinMaxRanges.collect(graph, net, calibration.iterator());

    byte[] float32 = TfliteWriter.write(TfliteExporter.export(graph, ExportOptions.of(ExportMode.FLOAT32)));
    byte[] int8 = TfliteWriter.write(TfliteExporter.export(graph,
        ExportOptions.int8(ranges, ExportOptions.IoType.FLOAT)));
    double floatAcc = accuracy(float32, testX, testY);
    double int8Acc = accuracy(int8, testX, testY);
    double dl4jAcc = dl4jAccuracy(net, testX, testY);
    double ratio = int8.length / (double) float32.length;
    LOG.info("Fashion-MNIST CNN on {} test rows: DL4J {}%, TFLite float32 {}% ({} bytes), int8 {}% ({} bytes), "
        + "size ratio {}", TEST_ROWS, 100 * dl4jAcc, 100 * floatAcc, float32.length, 100 * int8Acc, int8.length,
        ratio);
    assertTrue(floatAcc > 0.70, "float model did not learn: " + floatAcc);
    // Float rounding may flip at most a near-tie or two.
    assertTrue(Math.abs(floatAcc - dl4jAcc) <= 2.0 / TEST_ROWS, "float32 export disagrees with DL4J: " + floatAcc
        + " vs " + dl4jAcc);
    assertTrue(100 * (floatAcc - int8Acc) <= MAX_TOP1_DROP_POINTS,
        "int8 top-1 " + int8Acc + " vs float " + floatAcc);
    assertTrue(ratio <= MAX_SIZE_RATIO, "int8 file " + int8.length + " bytes is " + ratio + " of float32 "
        + float32.length);
  }

  /** Training is most of this test's time: the model is cached under target/ for reruns (mvn clean drops it). */
  static MultiLayerNetwork trainedOrCached(float[][] x, int[] y) throws IOException {
    Path cache = Path.of("target", "test-cache", "fashion-cnn-" + TRAIN_ROWS + ".zip");
    if (Files.isRegularFile(cache)) {
      return ModelSerializer.restoreMultiLayerNetwork(cache.toFile());
    }
    MultiLayerNetwork net = train(x, y);
    Files.createDirectories(cache.getParent());
    Path tmp = Files.createTempFile(cache.getParent(), "fashion-cnn", ".tmp");
    ModelSerializer.writeModel(net, tmp.toFile(), false);
    Files.move(tmp, cache, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return net;
  }

  static MultiLayerNetwork train(float[][] x, int[] y) {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(123).updater(new Adam(2e-3)).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(8).activation(Activation.RELU)
            .convolutionMode(ConvolutionMode.Same).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(16).activation(Activation.RELU)
            .convolutionMode(ConvolutionMode.Same).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX)
            .build())
        .setInputType(InputType.convolutionalFlat(28, 28, 1))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    for (int start = 0; start < x.length; start += 50) {
      int n = Math.min(50, x.length - start);
      INDArray labels = Nd4j.zeros(n, 10);
      for (int i = 0; i < n; i++) {
        labels.putScalar(i, y[start + i], 1.0);
      }
      net.fit(new DataSet(batch(x, start, n), labels));
    }
    return net;
  }

  static INDArray batch(float[][] x, int start, int n) {
    float[][] rows = new float[n][];
    System.arraycopy(x, start, rows, 0, n);
    return Nd4j.create(rows);
  }

  static double accuracy(byte[] model, float[][] x, int[] y) {
    int correct = 0;
    try (TfliteRuntime rt = TfliteRuntime.create(model, 1)) {
      for (int i = 0; i < x.length; i++) {
        if (argmax(TfliteTestSupport.runFloat(rt, x[i])) == y[i]) {
          correct++;
        }
      }
    }
    return correct / (double) x.length;
  }

  static double dl4jAccuracy(MultiLayerNetwork net, float[][] x, int[] y) {
    INDArray out = net.output(batch(x, 0, x.length), false);
    int correct = 0;
    for (int i = 0; i < x.length; i++) {
      if (out.getRow(i).argMax().getInt(0) == y[i]) {
        correct++;
      }
    }
    return correct / (double) x.length;
  }

  static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }
}
