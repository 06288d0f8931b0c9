package io.sparkquant.jobs.calib;

import io.sparkquant.jobs.spark.ExecutorCache;
import io.sparkquant.ops.calib.MergeableStats;
import io.sparkquant.ops.interp.TensorValue;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

/**
 * One calibration pass over a partition of sampled rows, in the order they come: rows go through the float32
 * interpreter in groups of up to {@code rowsPerRun} and every observed tensor is folded into the partition's
 * statistics. The interpreter's float kernels compute each row on its own (no accumulation across the rows of a
 * run), so a row's tensors, and the order-free statistics, do not depend on which rows share its run or partition.
 * Rows are streamed; only the current group is held.
 */
final class ObservePartition<S extends MergeableStats<S>> implements FlatMapFunction<Iterator<float[]>, PassStats<S>> {

  private static final long serialVersionUID = 1L;

  /** Folds one run's values of a tensor into its statistics ({@code current} is null for the first run). */
  interface TensorFold<S extends MergeableStats<S>> extends Serializable {
    S fold(String tensor, S current, float[] values);
  }

  private final String modelSha256;
  private final Broadcast<byte[]> model;
  private final String[] tensors;
  private final int[] itemShape;
  private final int rowsPerRun;
  private final TensorFold<S> fold;

  /**
   * @param model the float32 .tflite bytes ({@link CalibrationModel#export})
   * @param tensors the graph tensor names to observe
   * @param itemShape the model input's shape without the batch dimension
   */
  ObservePartition(String modelSha256, Broadcast<byte[]> model, String[] tensors, int[] itemShape, int rowsPerRun,
      TensorFold<S> fold) {
    this.modelSha256 = modelSha256;
    this.model = model;
    this.tensors = tensors;
    this.itemShape = itemShape;
    this.rowsPerRun = rowsPerRun;
    this.fold = fold;
  }

  @Override
  public Iterator<PassStats<S>> call(Iterator<float[]> rows) {
    PassStats<S> stats = PassStats.empty();
    if (!rows.hasNext()) {
      return List.of(stats).iterator();
    }
    try (ExecutorCache.Lease<CalibrationModel> lease = CalibrationModel.lease(modelSha256, model::value, tensors)) {
      int length = Arrays.stream(itemShape).reduce(1, (a, b) -> a * b);
      @SuppressWarnings("unchecked")
      S[] acc = (S[]) new MergeableStats<?>[tensors.length];
      float[] group = new float[rowsPerRun * length];
      int n = 0;
      while (rows.hasNext()) {
        System.arraycopy(rows.next(), 0, group, n * length, length);
        if (++n == rowsPerRun) {
          run(lease.value(), group, n, acc);
          stats.addRows(n);
          n = 0;
        }
      }
      if (n > 0) {
        run(lease.value(), Arrays.copyOf(group, n * length), n, acc);
        stats.addRows(n);
      }
      for (int i = 0; i < tensors.length; i++) {
        stats.tensors().add(tensors[i], acc[i]);
      }
    }
    return List.of(stats).iterator();
  }

  private void run(CalibrationModel model, float[] group, int n, S[] acc) {
    int[] shape = new int[itemShape.length + 1];
    shape[0] = n;
    System.arraycopy(itemShape, 0, shape, 1, itemShape.length);
    TensorValue[] all = model.interpreter().runAll(TensorValue.ofFloat(shape, group));
    for (int i = 0; i < tensors.length; i++) {
      acc[i] = fold.fold(tensors[i], acc[i], all[model.tensors()[i]].floats());
    }
  }
}
