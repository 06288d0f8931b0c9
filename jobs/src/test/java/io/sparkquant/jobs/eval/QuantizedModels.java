package io.sparkquant.jobs.eval;

import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.IdxFile;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.ExportMode;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.MinMaxRanges;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A small CNN trained once per build on the bundled Fashion-MNIST subset (cached under target/test-cache), and
 * its .tflite exports written once per test JVM by the real TfliteExporter: float32, dynamic-range, int8 with
 * float I/O, int8 with int8 I/O, and int8 with deliberately bad ranges (every range 10x wider).
 */
public final class QuantizedModels {

  static final int TRAIN_ROWS = 3000;
  static final int CALIBRATION_ROWS = 300;
  static final float BAD_RANGE_FACTOR = 10f;

  private static QuantizedModels instance;

  public final Path dir;
  public final Path dl4j;
  public final Path float32;
  public final Path dynamic;
  public final Path int8;
  public final Path int8Io;
  public final Path int8BadRanges;
  public final Graph graph;
  public final ActivationRanges ranges;

  private QuantizedModels(Path dir, MultiLayerNetwork net, float[][] calibration) throws IOException {
    this.dir = dir;
    dl4j = dir.resolve("cnn.zip");
    ModelSerializer.writeModel(net, dl4j.toFile(), false);
    graph = Dl4jImporter.importNetwork(net);
    List<INDArray> batches = new ArrayList<>();
    for (int start = 0; start < calibration.length; start += 100) {
      batches.add(batch(calibration, start, Math.min(100, calibration.length - start)));
    }
    ranges = MinMaxRanges.collect(graph, net, batches.iterator());
    Map<String, float[]> wide = new LinkedHashMap<>();
    ranges.asMap().forEach((k, r) -> wide.put(k, new float[] {r[0] * BAD_RANGE_FACTOR, r[1] * BAD_RANGE_FACTOR}));
    float32 = export("float32.tflite", ExportOptions.of(ExportMode.FLOAT32));
    dynamic = export("dynamic.tflite", ExportOptions.of(ExportMode.DYNAMIC_RANGE));
    int8 = export("int8.tflite", ExportOptions.int8(ranges, ExportOptions.IoType.FLOAT));
    int8Io = export("int8io.tflite", ExportOptions.int8(ranges, ExportOptions.IoType.INT8));
    int8BadRanges = export("int8bad.tflite", ExportOptions.int8(ActivationRanges.of(wide, "minmax x10"),
        ExportOptions.IoType.FLOAT));
  }

  private Path export(String name, ExportOptions options) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, TfliteWriter.write(TfliteExporter.export(graph, options)));
    return p;
  }

  public static synchronized QuantizedModels get() {
    if (instance == null) {
      try {
        Path dir = Files.createTempDirectory("sparkquant-evalq-models");
        FashionMnist.Location subset = FashionMnist.bundledSubset(dir.resolve("idx"));
        float[][] x = images(Path.of(subset.trainImages()), TRAIN_ROWS);
        int[] y = labels(Path.of(subset.trainLabels()), TRAIN_ROWS);
        float[][] calibration = new float[CALIBRATION_ROWS][];
        System.arraycopy(x, 0, calibration, 0, CALIBRATION_ROWS);
        instance = new QuantizedModels(dir, trainedOrCached(x, y), calibration);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return instance;
  }

  /** Training dominates: the model is cached under target/ for reruns (mvn clean drops it). */
  static MultiLayerNetwork trainedOrCached(float[][] x, int[] y) throws IOException {
    Path cache = Path.of("target", "test-cache", "evalq-cnn-" + TRAIN_ROWS + ".zip");
    if (Files.isRegularFile(cache)) {
      return ModelSerializer.restoreMultiLayerNetwork(cache.toFile());
    }
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(7).updater(new Adam(3e-3)).list()
        .layer(new ConvolutionLayer.Builder(3, 3).name("conv1").nOut(8).activation(Activation.RELU)
            .convolutionMode(ConvolutionMode.Same).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).name("pool1").kernelSize(2, 2).stride(2, 2).build())
        .layer(new ConvolutionLayer.Builder(3, 3).name("conv2").nOut(16).activation(Activation.RELU)
            .convolutionMode(ConvolutionMode.Same).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).name("pool2").kernelSize(2, 2).stride(2, 2).build())
        .layer(new DenseLayer.Builder().name("fc1").nOut(32).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(10)
            .activation(Activation.SOFTMAX).build())
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
    Files.createDirectories(cache.getParent());
    Path tmp = Files.createTempFile(cache.getParent(), "evalq-cnn", ".tmp");
    ModelSerializer.writeModel(net, tmp.toFile(), false);
    Files.move(tmp, cache, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return net;
  }

  static INDArray batch(float[][] x, int start, int n) {
    float[][] rows = new float[n][];
    System.arraycopy(x, start, rows, 0, n);
    return Nd4j.create(rows);
  }

  /** The first n images scaled to [0, 1] (as the IDX converter scales them), row-major HWC. */
  static float[][] images(Path idx, int n) throws IOException {
    IdxFile.Contents c = IdxFile.read(idx, IdxFile.IMAGES_MAGIC);
    int size = c.header().recordBytes();
    float[][] x = new float[Math.min(n, c.header().count())][size];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < size; j++) {
        x[i][j] = (c.data()[i * size + j] & 0xff) / 255f;
      }
    }
    return x;
  }

  static int[] labels(Path idx, int n) throws IOException {
    IdxFile.Contents c = IdxFile.read(idx, IdxFile.LABELS_MAGIC);
    int[] y = new int[Math.min(n, c.header().count())];
    for (int i = 0; i < y.length; i++) {
      y[i] = c.data()[i] & 0xff;
    }
    return y;
  }
}
