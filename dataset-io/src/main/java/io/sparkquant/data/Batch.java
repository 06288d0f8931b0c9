package io.sparkquant.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Up to batchSize consecutive rows: features in the requested {@link Layout} (first dimension = rows), and the
 * labels and ids of the same rows in the same order. {@code labels} is null for unlabelled rows, {@code ids} for
 * rows read by {@link Batches#featureBatchIterator}.
 */
public record Batch(INDArray features, int[] labels, long[] ids) {

  public int size() {
    return (int) features.size(0);
  }

  /** Labels one-hot encoded as a float {@code [n, numClasses]} matrix. */
  public INDArray oneHotLabels(int numClasses) {
    float[] oneHot = new float[labels.length * numClasses];
    for (int i = 0; i < labels.length; i++) {
      oneHot[i * numClasses + labels[i]] = 1f;
    }
    return Nd4j.create(oneHot, new long[] {labels.length, numClasses}, 'c');
  }

  /** A DL4J DataSet of the features and one-hot labels. */
  public DataSet toDataSet(int numClasses) {
    return new DataSet(features, oneHotLabels(numClasses));
  }
}
