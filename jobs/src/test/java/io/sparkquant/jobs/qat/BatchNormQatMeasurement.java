package io.sparkquant.jobs.qat;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.IdxFile;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.qat.QatNetwork;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Issue 10's BatchNorm question, measured: the cnn and micro presets trained briefly in plain DL4J, then fine-tuned
 * with BatchNorm folded before fine-tuning (QatNetwork's default) and with frozen statistics
 * ({@code Options.withFrozenBatchNorm}), same seed, steps and rows; int8 accuracy of the exported .tflite on the full
 * Fashion-MNIST test set in TFLite 2.6.2, next to the PTQ (min/max) int8 model the fine-tuning starts from.
 * A measurement, not a test (minutes of training; the name keeps it out of {@code mvn verify}):
 * {@code mvn -o -q -pl jobs -am test -Dtest=BatchNormQatMeasurement -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Dsparkquant.bn.presets=cnn} for one preset).
 */
class BatchNormQatMeasurement {

  private static final Path DIR = Path.of(FashionMnist.SYSTEM_DIR);
  private static final long SEED = 11;
  private static final int TRAIN_ROWS = 4000;
  private static final int CALIBRATION_ROWS = 1000;
  private static final int BATCH = 64;
  private static final int QAT_STEPS = 150;
  private static final int EVAL_BATCH = 500;
  private static final int CLASSES = 10;

  private float[][] trainX;
  private int[] trainY;
  private float[][] testX;
  private int[] testY;

  @Test
  void measure() throws IOException {
    assumeTrue(Files.isReadable(DIR.resolve("t10k-images-idx3-ubyte.gz")), "Fashion-MNIST not installed at " + DIR);
    trainX = images("train-images-idx3-ubyte.gz", TRAIN_ROWS);
    trainY = labels("train-labels-idx1-ubyte.gz", TRAIN_ROWS);
    testX = images("t10k-images-idx3-ubyte.gz", Integer.MAX_VALUE);
    testY = labels("t10k-labels-idx1-ubyte.gz", Integer.MAX_VALUE);
    StringBuilder table = new StringBuilder(String.format("%n| preset | float epochs | weights | PTQ int8 | "
        + "QAT folded int8 (sim) | QAT frozen-stats int8 (sim) |%n|---|---|---|---|---|---|"));
    for (String name : System.getProperty("sparkquant.bn.presets", "micro,cnn").split(",")) {
      Preset p = Preset.fromCliName(name.strip());
      int epochs = p == Preset.CNN ? 1 : 3;
      long t0 = System.nanoTime();
      MultiLayerNetwork net = new MultiLayerNetwork(p.configuration(new DatasetInfo(new int[] {28, 28, 1},
          FashionMnist.CLASS_NAMES), SEED, 1e-3, 1.0));
      net.init();
      for (int e = 0; e < epochs; e++) {
        for (int s = 0; s + BATCH <= TRAIN_ROWS; s += BATCH) {
          net.fit(batch(s, BATCH));
        }
      }
      Graph graph = Dl4jImporter.importModel(net, new int[] {28, 28, 1});
      ActivationRanges ranges = minMax(graph, net);
      Map<String, QatNetwork.FrozenBatchNorm> stats = QatNetwork.frozenBatchNormOf(graph, net);
      System.out.printf("%s: float training %.0f s, BatchNorm folded into %s%n", p.cliName(),
          (System.nanoTime() - t0) / 1e9, stats.keySet());
      for (boolean perTensor : p == Preset.MICRO ? new boolean[] {false, true} : new boolean[] {false}) {
        ExportOptions ptq = ExportOptions.int8(ranges, ExportOptions.IoType.FLOAT).withPerTensorWeights(perTensor);
        double ptqAccuracy = int8Accuracy(TfliteWriter.write(TfliteExporter.export(graph, ptq)));
        String folded = fineTune(graph, ranges, perTensor, Map.of());
        String frozen = fineTune(graph, ranges, perTensor, stats);
        table.append(String.format("%n| %s | %d | %s | %.2f | %s | %s |", p.cliName(), epochs,
            perTensor ? "per tensor" : "per channel", ptqAccuracy, folded, frozen));
        System.out.println(table);
      }
    }
    System.out.printf("%nBatchNorm in QAT, %d training rows, %d fine-tuning steps of %d rows (Adam 1e-4), "
        + "10,000 test rows:%s%n", TRAIN_ROWS, QAT_STEPS, BATCH, table);
  }

  /** Fine-tunes, snaps the biases, exports with the QAT ranges; "int8 % (simulated %)". */
  private String fineTune(Graph graph, ActivationRanges ranges, boolean perTensor,
      Map<String, QatNetwork.FrozenBatchNorm> frozen) {
    long t0 = System.nanoTime();
    QatNetwork qat = QatNetwork.build(graph, ranges, new QatNetwork.Options(perTensor, false, new Adam(1e-4), SEED)
        .withFrozenBatchNorm(frozen));
    for (int step = 0; step < QAT_STEPS; step++) {
      int start = (step * BATCH) % (TRAIN_ROWS - BATCH + 1);
      INDArray x = qat.toDl4jInput(flat(trainX, start, BATCH), BATCH);
      qat.network().fit(new DataSet(x, labels(start, BATCH)));
    }
    ExportOptions int8 = ExportOptions.int8(qat.ranges(), ExportOptions.IoType.FLOAT).withPerTensorWeights(perTensor);
    qat.snapBiasesToExport(int8);
    double deployed = int8Accuracy(TfliteWriter.write(TfliteExporter.export(qat.writeBack(), int8)));
    qat.setSoftmaxOutputQuantized(true);
    int correct = 0;
    for (int s = 0; s < testX.length; s += EVAL_BATCH) {
      INDArray out = qat.network().outputSingle(false, qat.toDl4jInput(flat(testX, s, EVAL_BATCH), EVAL_BATCH));
      for (int i = 0; i < EVAL_BATCH; i++) {
        correct += out.getRow(i).argMax().getInt(0) == testY[s + i] ? 1 : 0;
      }
    }
    System.out.printf("  fine-tuned (%s, %s) in %.0f s%n", frozen.isEmpty() ? "folded" : "frozen statistics",
        perTensor ? "per-tensor" : "per-channel", (System.nanoTime() - t0) / 1e9);
    return String.format("%.2f (%.2f)", deployed, 100.0 * correct / testX.length);
  }

  private double int8Accuracy(byte[] tflite) {
    int correct = 0;
    try (TfliteRuntime rt = TfliteRuntime.create(tflite, 1)) {
      rt.resizeBatch(EVAL_BATCH);
      for (int s = 0; s < testX.length; s += EVAL_BATCH) {
        float[] p = (float[]) rt.run((Object) flat(testX, s, EVAL_BATCH))[0];
        for (int i = 0; i < EVAL_BATCH; i++) {
          int best = 0;
          for (int k = 1; k < CLASSES; k++) {
            best = p[i * CLASSES + k] > p[i * CLASSES + best] ? k : best;
          }
          correct += best == testY[s + i] ? 1 : 0;
        }
      }
    }
    return 100.0 * correct / testX.length;
  }

  private ActivationRanges minMax(Graph graph, MultiLayerNetwork net) {
    Map<String, float[]> ranges = new LinkedHashMap<>();
    for (int s = 0; s < CALIBRATION_ROWS; s += EVAL_BATCH) {
      INDArray x = Dl4jActivations.toDl4jInput(graph, flat(trainX, s, EVAL_BATCH), EVAL_BATCH);
      for (Map.Entry<String, INDArray> e : Dl4jActivations.collect(graph, net, x).entrySet()) {
        float[] r = {e.getValue().minNumber().floatValue(), e.getValue().maxNumber().floatValue()};
        ranges.merge(e.getKey(), r, (a, b) -> new float[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
      }
    }
    return ActivationRanges.of(ranges, "minmax");
  }

  /** A float-training batch: the presets read NCHW, which for one channel is the NHWC rows reshaped. */
  private DataSet batch(int start, int n) {
    INDArray x = Nd4j.create(flat(trainX, start, n), new long[] {n, 1, 28, 28}, 'c');
    return new DataSet(x, labels(start, n));
  }

  private INDArray labels(int start, int n) {
    INDArray y = Nd4j.zeros(DataType.FLOAT, n, CLASSES);
    for (int i = 0; i < n; i++) {
      y.putScalar(i, trainY[start + i], 1f);
    }
    return y;
  }

  private static float[] flat(float[][] x, int start, int n) {
    float[] out = new float[n * x[0].length];
    for (int i = 0; i < n; i++) {
      System.arraycopy(x[start + i], 0, out, i * x[0].length, x[0].length);
    }
    return out;
  }

  private static float[][] images(String file, int n) throws IOException {
    IdxFile.Contents c = IdxFile.read(DIR.resolve(file), IdxFile.IMAGES_MAGIC);
    int size = c.header().recordBytes();
    float[][] x = new float[Math.min(n, c.header().count())][size];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < size; j++) {
        x[i][j] = (c.data()[i * size + j] & 0xff) / 255f;
      }
    }
    return x;
  }

  private static int[] labels(String file, int n) throws IOException {
    IdxFile.Contents c = IdxFile.read(DIR.resolve(file), IdxFile.LABELS_MAGIC);
    int[] y = new int[Math.min(n, c.header().count())];
    for (int i = 0; i < y.length; i++) {
      y[i] = c.data()[i] & 0xff;
    }
    return y;
  }
}
