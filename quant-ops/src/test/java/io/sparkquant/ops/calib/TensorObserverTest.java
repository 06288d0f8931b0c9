package io.sparkquant.ops.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class TensorObserverTest {

  /** Native arrays are read in place (permuted views) or copied (views into a larger buffer); both see every value. */
  @Test
  void statisticsOfNativeViewsMatchTheirValuesOnTheHeap() {
    Nd4j.getRandom().setSeed(3);
    INDArray nchw = Nd4j.rand(DataType.FLOAT, 4, 3, 5, 6).subi(0.5);
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    tensors.put("nhwc view", nchw.permute(0, 2, 3, 1));
    tensors.put("second item", nchw.get(NDArrayIndex.point(1))); // offset != 0: copied before reading
    tensors.put("doubles", nchw.castTo(DataType.DOUBLE).muli(3));

    ModelStats<MinMaxStats> minMax = ModelStats.empty();
    TensorObserver.addMinMax(minMax, tensors);
    Map<String, BinLayout> layouts = new LinkedHashMap<>();
    tensors.keySet().forEach(name -> layouts.put(name, BinLayout.forRange(minMax.get(name), 64)));
    ModelStats<HistogramStats> histograms = ModelStats.empty();
    TensorObserver.addHistograms(histograms, tensors, layouts);

    for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
      float[] heap = e.getValue().castTo(DataType.FLOAT).dup('c').reshape(-1).toFloatVector();
      assertEquals(MinMaxStats.empty().addAll(heap), minMax.get(e.getKey()), e.getKey());
      assertEquals(HistogramStats.empty(layouts.get(e.getKey())).addAll(heap), histograms.get(e.getKey()),
          e.getKey());
    }
    assertEquals(3 * 5 * 6, minMax.get("second item").count());
  }
}
