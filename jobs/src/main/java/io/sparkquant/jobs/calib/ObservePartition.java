package io.sparkquant.jobs.calib;

import io.sparkquant.data.InvalidDatasetException;
import io.sparkquant.jobs.spark.ExecutorCache;
import io.sparkquant.ops.calib.MergeableStats;
import io.sparkquant.ops.interp.TensorValue;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;

/**
 * One calibration pass over a partition of rows (Spark's internal rows of features, id), in the order they come: the
 * sampled rows' features are copied and checked straight into groups of up to {@code rowsPerRun} rows, each group
 * goes through the float32 interpreter, and every observed tensor is folded into the partition's statistics. The
 * interpreter's float kernels compute each row on its own (no accumulation across the rows of a run), so a row's
 * tensors, and the order-free statistics, do not depend on which rows share its run or partition. Rows are
 * streamed; only the current group is held.
 */
final class ObservePartition<S extends MergeableStats<S>>
    implements FlatMapFunction<Iterator<InternalRow>, PassStats<S>> {

  private static final long serialVersionUID = 1L;

  /** Folds one run's values of a tensor into its statistics ({@code current} is null for the first run). */
  interface TensorFold<S extends MergeableStats<S>> extends Serializable {
    S fold(String tensor, S current, float[] values);
  }

  private final Calibrator.Sample sample;
  private final long seed;
  private final String modelSha256;
  private final Broadcast<byte[]> model;
  private final String[] tensors;
  private final int[] itemShape;
  private final int rowsPerRun;
  private final TensorFold<S> fold;

  /**
   * @param sample which rows are observed, by the seeded hash of their id
   * @param model the float32 .tflite bytes ({@link CalibrationModel#export})
   * @param tensors the graph tensor names to observe
   * @param itemShape the model input's shape without the batch dimension
   */
  ObservePartition(Calibrator.Sample sample, long seed, String modelSha256, Broadcast<byte[]> model,
      String[] tensors, int[] itemShape, int rowsPerRun, TensorFold<S> fold) {
    this.sample = sample;
    this.seed = seed;
    this.modelSha256 = modelSha256;
    this.model = model;
    this.tensors = tensors;
    this.itemShape = itemShape;
    this.rowsPerRun = rowsPerRun;
    this.fold = fold;
  }

  @Override
  public Iterator<PassStats<S>> call(Iterator<InternalRow> rows) {
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
        InternalRow row = rows.next();
        long id = Calibrator.idOf(row, 1);
        if (!sample.keep(SampleKeys.key(seed, id), id)) {
          continue;
        }
        copyFeatures(row, id, group, n * length, length);
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
      for (int i = 0; acc[0] != null && i < tensors.length; i++) { // none when the sample holds no row here
        stats.tensors().add(tensors[i], acc[i]);
      }
    }
    return List.of(stats).iterator();
  }

  /** Copies the row's features to {@code group[offset..]}, checked: one finite value per model input element. */
  private static void copyFeatures(InternalRow row, long id, float[] group, int offset, int length) {
    if (row.isNullAt(0)) {
      throw badFeatures(id, length + " finite values", "null");
    }
    ArrayData values = row.getArray(0);
    if (values.numElements() != length) {
      throw badFeatures(id, length + " values (the model input)", values.numElements() + " values");
    }
    for (int i = 0; i < length; i++) {
      if (values.isNullAt(i)) {
        throw badFeatures(id, "finite values", "null at index " + i);
      }
      float v = values.getFloat(i);
      if (!Float.isFinite(v)) {
        throw badFeatures(id, "finite values", v + " at index " + i);
      }
      group[offset + i] = v;
    }
  }

  private static InvalidDatasetException badFeatures(long id, String expected, String actual) {
    return InvalidDatasetException.atRow(Calibrator.SOURCE, "features", "row id " + id, expected, actual);
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
