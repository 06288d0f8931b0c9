package io.sparkquant.jobs.calib;

import io.sparkquant.jobs.spark.ExecutorCache;
import io.sparkquant.ops.calib.MergeableStats;
import io.sparkquant.ops.calib.ModelStats;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Graph;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.ndarray.INDArray;
import scala.Tuple2;

/**
 * One calibration pass over a partition of canonically batched rows (sorted by {@link BatchKey}): each run of rows
 * with the same bucket is one batch through the float model; every observed tensor goes to {@code observer}.
 * Rows are streamed; only the current batch is held.
 */
final class ObservePartition<S extends MergeableStats<S>>
    implements FlatMapFunction<Iterator<Tuple2<BatchKey, float[]>>, PassStats<S>> {

  private static final long serialVersionUID = 1L;

  /** Folds one batch's tensors into the statistics. */
  interface BatchObserver<S extends MergeableStats<S>> extends Serializable {
    void observe(ModelStats<S> stats, Map<String, INDArray> tensors);
  }

  private final String modelSha256;
  private final Broadcast<byte[]> model;
  private final Broadcast<Graph> graph;
  private final int[] inputShape;
  private final BatchObserver<S> observer;

  /** @param graph the graph to observe on the model, or null to import the model's own */
  ObservePartition(String modelSha256, Broadcast<byte[]> model, Broadcast<Graph> graph, int[] inputShape,
      BatchObserver<S> observer) {
    this.modelSha256 = modelSha256;
    this.model = model;
    this.graph = graph;
    this.inputShape = inputShape;
    this.observer = observer;
  }

  @Override
  public Iterator<PassStats<S>> call(Iterator<Tuple2<BatchKey, float[]>> rows) {
    PassStats<S> stats = PassStats.empty();
    if (!rows.hasNext()) {
      return List.of(stats).iterator();
    }
    try (ExecutorCache.Lease<CalibrationModel> lease = CalibrationModel.lease(modelSha256, model::value,
        graph == null ? null : graph::value, inputShape)) {
      int length = lease.value().graph().input().itemSize();
      List<float[]> batch = new ArrayList<>();
      int bucket = -1;
      while (rows.hasNext()) {
        Tuple2<BatchKey, float[]> row = rows.next();
        if (row._1().bucket() != bucket && !batch.isEmpty()) {
          run(lease.value(), batch, length, stats);
          batch.clear();
        }
        bucket = row._1().bucket();
        batch.add(row._2());
      }
      run(lease.value(), batch, length, stats);
    }
    return List.of(stats).iterator();
  }

  private void run(CalibrationModel model, List<float[]> batch, int length, PassStats<S> stats) {
    int n = batch.size();
    float[] nhwc = new float[n * length];
    for (int i = 0; i < n; i++) {
      System.arraycopy(batch.get(i), 0, nhwc, i * length, length);
    }
    INDArray input = Dl4jActivations.toDl4jInput(model.graph(), nhwc, n);
    observer.observe(stats.tensors(), Dl4jActivations.collect(model.graph(), model.model(), input));
    stats.addRows(n);
  }
}
