package io.sparkquant.ops.calib;

import java.lang.ref.Reference;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Folds one batch of observed tensors (tensor name -> values, as the graph's activation collector returns them)
 * into per-model statistics. Statistics depend only on the multiset of values, so element order (NCHW or NHWC,
 * permuted views) does not matter.
 */
public final class TensorObserver {

  private TensorObserver() {}

  /** Pass 1: min/max of every tensor. */
  public static void addMinMax(ModelStats<MinMaxStats> stats, Map<String, INDArray> tensors) {
    for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
      stats.add(e.getKey(), fold(e.getValue(), values -> MinMaxStats.empty().addAll(values)));
    }
  }

  /**
   * Pass 2: histograms over the fixed layouts of pass 1.
   *
   * @throws IllegalArgumentException if a tensor has no layout (pass 1 did not see it)
   */
  public static void addHistograms(ModelStats<HistogramStats> stats, Map<String, INDArray> tensors,
      Map<String, BinLayout> layouts) {
    for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
      BinLayout layout = layouts.get(e.getKey());
      if (layout == null) {
        throw new IllegalArgumentException("tensor '" + e.getKey() + "' has no histogram layout; pass 1 observed "
            + layouts.keySet());
      }
      stats.add(e.getKey(), fold(e.getValue(), values -> HistogramStats.empty(layout).addAll(values)));
    }
  }

  /**
   * Folds the tensor's elements, in some order, read in place from its native buffer: a permuted view of a whole
   * buffer holds the same multiset of values as the tensor. Other views are copied first.
   */
  static <S> S fold(INDArray a, Function<FloatBuffer, S> observe) {
    INDArray f = a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
    if (f.offset() != 0 || f.data().length() != f.length()) {
      f = f.dup('c');
    }
    try {
      return observe.apply(f.data().asNioFloat().limit((int) f.length()));
    } finally {
      Reference.reachabilityFence(f); // collecting f would free the native memory the buffer reads
    }
  }
}
