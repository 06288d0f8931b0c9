package io.sparkquant.ops.export;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.GraphTensor;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * In-process min/max ranges over a few batches, for tests that need ranges without Spark. The product has one
 * calibration path, the distributed calibrator in jobs. Observes every graph tensor through {@link Dl4jActivations}.
 */
public final class MinMaxRanges {

  private MinMaxRanges() {}

  /**
   * @param batches DL4J-layout input batches ({@link Graph#dl4jInputLayout()})
   * @throws IllegalArgumentException if there is no batch or a tensor holds NaN/infinity
   */
  public static ActivationRanges collect(Graph graph, Model model, Iterator<INDArray> batches) {
    Map<String, float[]> ranges = new LinkedHashMap<>();
    long rows = 0;
    while (batches.hasNext()) {
      INDArray batch = batches.next();
      rows += batch.size(0);
      for (Map.Entry<String, INDArray> e : Dl4jActivations.collect(graph, model, batch).entrySet()) {
        float min = e.getValue().minNumber().floatValue();
        float max = e.getValue().maxNumber().floatValue();
        if (!Float.isFinite(min) || !Float.isFinite(max)) {
          throw new IllegalArgumentException("tensor '" + e.getKey() + "' has non-finite values (min " + min
              + ", max " + max + ") after " + rows + " calibration rows");
        }
        ranges.merge(e.getKey(), new float[] {min, max},
            (a, b) -> new float[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
      }
    }
    if (rows == 0) {
      throw new IllegalArgumentException("no calibration batches");
    }
    for (GraphTensor t : graph.tensors()) {
      if (!ranges.containsKey(t.name())) {
        throw new IllegalStateException("tensor '" + t.name() + "' was not observed");
      }
    }
    return ActivationRanges.of(ranges, "minmax");
  }
}
