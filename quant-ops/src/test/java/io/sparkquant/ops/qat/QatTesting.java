package io.sparkquant.ops.qat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.TestModels;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** Training data and array comparisons shared by the QAT network tests. */
final class QatTesting {

  private QatTesting() {}

  /**
   * With every hook off, the network computes {@code expected} (the float graph) within {@code tolerance} of its
   * largest magnitude; with them on, its output differs (the hooks act, so the check can fail).
   */
  static void assertHooksOffMatchAndOnChange(QatNetwork qat, float[] x, int batch, float[] expected,
      double tolerance, String name) {
    qat.setEnabled(false);
    float[] actual = flat(qat.network().outputSingle(false, qat.toDl4jInput(x, batch)));
    double maxErr = maxAbsDiff(expected, actual);
    double scale = Math.max(1e-6, maxAbs(expected));
    assertTrue(maxErr <= tolerance * scale, name + ": hooks off, max |dl4j - float graph| " + maxErr + " exceeds "
        + tolerance + " * " + scale);
    qat.setEnabled(true);
    float[] simulated = flat(qat.network().outputSingle(false, qat.toDl4jInput(x, batch)));
    assertTrue(maxAbsDiff(expected, simulated) > 0, name + ": fake quantization changed nothing");
  }

  /** Seeded inputs labelled by a fixed random linear rule, so a few steps lower the loss. */
  static DataSet trainingData(Graph g, QatNetwork qat, int rows, long seed) {
    float[] x = TestModels.randomInput(g, rows, seed);
    int classes = g.output().dim(1);
    int item = g.input().itemSize();
    Random r = new Random(seed);
    float[] proj = new float[item * classes];
    for (int i = 0; i < proj.length; i++) {
      proj[i] = (float) r.nextGaussian();
    }
    INDArray labels = Nd4j.zeros(DataType.FLOAT, rows, classes);
    for (int n = 0; n < rows; n++) {
      int best = 0;
      double bestScore = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < classes; k++) {
        double s = 0;
        for (int i = 0; i < item; i++) {
          s += x[n * item + i] * proj[i * classes + k];
        }
        if (s > bestScore) {
          bestScore = s;
          best = k;
        }
      }
      labels.putScalar(n, best, 1f);
    }
    return new DataSet(qat.toDl4jInput(x, rows), labels);
  }

  static int argMax(float[] v, int row, int classes) {
    int best = 0;
    for (int k = 1; k < classes; k++) {
      if (v[row * classes + k] > v[row * classes + best]) {
        best = k;
      }
    }
    return best;
  }

  static float[] flat(INDArray a) {
    return a.dup('c').castTo(DataType.FLOAT).reshape(a.length()).toFloatVector();
  }

  static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  static double maxAbs(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }
}
