package io.sparkquant.ops.qat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.MinMaxRanges;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.FloatReference;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.TestModels;
import io.sparkquant.ops.numerics.QuantParams;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * QatNetwork's frozen-statistics BatchNorm option on the test chain (conv1 + BN with random statistics): it computes
 * the folded graph, trains gamma and beta, and the folded weights its forward pass quantizes are, bit for bit, the
 * int8 weights times scales of the .tflite exported from what it writes back.
 */
class FrozenBatchNormTest {

  private static final long SEED = 31;
  private static final int ROWS = 64;
  /** Hooks off against the folded graph's float reference, relative to the largest |value|. */
  private static final double FLOAT_TOLERANCE = 1e-5;
  /** The forward pass computes {@code gamma * (x * (fq(Wf) / gamma))}: float rounding of the division only. */
  private static final double WEIGHT_ROUNDING = 1e-6;

  @Test
  void frozenStatisticsExportTheWeightsTheySimulate() {
    MultiLayerNetwork net = TestModels.cnnChain(SEED);
    Graph g = Dl4jImporter.importModel(net, null);
    INDArray calib = Dl4jActivations.toDl4jInput(g, TestModels.randomInput(g, 128, SEED + 1), 128);
    ActivationRanges ranges = MinMaxRanges.collect(g, net, List.of(calib).iterator());
    Map<String, QatNetwork.FrozenBatchNorm> stats = QatNetwork.frozenBatchNormOf(g, net);
    assertEquals(Set.of("conv1"), stats.keySet());
    QatNetwork qat = QatNetwork.build(g, ranges, QatNetwork.Options.defaults().withUpdater(new Adam(0.01))
        .withFrozenBatchNorm(stats));

    qat.setEnabled(false);
    float[] x = TestModels.randomInput(g, ROWS, SEED + 2);
    float[] expected = FloatReference.run(g, x, ROWS).get(g.output().name());
    float[] actual = FakeQuantActivation.floats(qat.network().outputSingle(false, qat.toDl4jInput(x, ROWS)));
    double scale = 0;
    double err = 0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      err = Math.max(err, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(err <= FLOAT_TOLERANCE * scale, "unfolded network vs folded graph: max error " + err);
    qat.setEnabled(true);

    Layer affine = qat.network().getLayer("conv1");
    float[] gammaBefore = FakeQuantActivation.floats(affine.getParam("W"));
    DataSet train = labelled(g, qat);
    double before = qat.network().score(train);
    for (int i = 0; i < 8; i++) {
      qat.network().fit(train);
    }
    assertTrue(qat.network().score(train) < before, "loss did not fall");
    float[] gamma = FakeQuantActivation.floats(affine.getParam("W"));
    assertTrue(!java.util.Arrays.equals(gammaBefore, gamma), "gamma was not trained");

    // The folded weights the forward pass quantizes, in DL4J's [out, in, kH, kW], against the exported int8 OHWI.
    Layer conv = qat.network().getLayer("conv1_conv");
    org.deeplearning4j.nn.conf.layers.Layer conf = conv.conf().getLayer();
    INDArray w = conv.getParam("W");
    float[] std = stats.get("conv1").std();
    float[] simulated = FoldedBatchNormWeights.quantize(conf, w.shape(),
        FoldedBatchNormWeights.folded(conf, w, gamma, std), false);
    ExportOptions int8 = ExportOptions.int8(qat.ranges(), ExportOptions.IoType.FLOAT);
    TfliteModel exported = TfliteExporter.export(qat.writeBack(), int8);
    TfliteTensor t = exported.tensor(exported.tensorIndex("conv1/weights"));
    int[] s = t.shape(); // OHWI
    float[] deployed = new float[simulated.length];
    for (int i = 0; i < t.data().length; i++) {
      int o = i / (s[1] * s[2] * s[3]);
      int ky = i / (s[2] * s[3]) % s[1];
      int kx = i / s[3] % s[2];
      int c = i % s[3];
      deployed[((o * s[3] + c) * s[1] + ky) * s[2] + kx] = new QuantParams(t.quantization().scale()[o], 0)
          .dequantize(t.data()[i]);
    }
    assertArrayEquals(deployed, simulated, "quantized folded weights: simulated vs exported");
    // And the forward pass computes with them: fq(Wf) / gamma, times gamma in the layer after.
    float[] used = FakeQuantActivation.floats(((org.deeplearning4j.nn.conf.layers.BaseLayer) conf).getWeightNoise()
        .getParameter(conv, "W", 0, 0, false, null));
    int perChannel = used.length / gamma.length;
    for (int i = 0; i < used.length; i++) {
      float back = used[i] * gamma[i / perChannel];
      assertEquals(simulated[i], back, WEIGHT_ROUNDING * Math.abs(simulated[i]) + 1e-12, "weight " + i);
    }

    // The simulation agrees with TFLite as the folded mode does (QatNetworkTest's threshold).
    qat.snapBiasesToExport(int8);
    qat.setSoftmaxOutputQuantized(true);
    int rows = 500;
    float[] in = TestModels.randomInput(g, rows, SEED + 4);
    float[] sim = FakeQuantActivation.floats(qat.network().outputSingle(false, qat.toDl4jInput(in, rows)));
    float[] dep;
    try (TfliteRuntime rt = TfliteRuntime.create(TfliteWriter.write(exported), 1)) {
      rt.resizeBatch(rows);
      dep = (float[]) rt.run((Object) in)[0];
    }
    int classes = dep.length / rows;
    int agree = 0;
    for (int r = 0; r < rows; r++) {
      agree += argMax(sim, r, classes) == argMax(dep, r, classes) ? 1 : 0;
    }
    assertTrue(agree >= 0.998 * rows, "frozen statistics: top-1 agreement with TFLite " + agree + "/" + rows);
  }

  private static DataSet labelled(Graph g, QatNetwork qat) {
    float[] x = TestModels.randomInput(g, ROWS, SEED + 3);
    int classes = g.output().dim(1);
    INDArray labels = Nd4j.zeros(DataType.FLOAT, ROWS, classes);
    Random r = new Random(SEED);
    for (int n = 0; n < ROWS; n++) {
      labels.putScalar(n, x[n * g.input().itemSize()] > 0.5f ? 0 : 1 + r.nextInt(classes - 1), 1f);
    }
    return new DataSet(qat.toDl4jInput(x, ROWS), labels);
  }

  private static int argMax(float[] v, int row, int classes) {
    int best = 0;
    for (int k = 1; k < classes; k++) {
      if (v[row * classes + k] > v[row * classes + best]) {
        best = k;
      }
    }
    return best;
  }
}
