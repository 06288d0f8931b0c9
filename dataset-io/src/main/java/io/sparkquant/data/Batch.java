package io.sparkquant.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Up to batchSize consecutive rows: {@code values} holds the features in the requested {@link Layout}, row-major
 * with dimensions {@code shape} (first dimension = rows), and the labels and ids of the same rows in the same
 * order. {@code labels} is null for unlabelled rows, {@code ids} for rows read by
 * {@link Batches#featureBatchIterator}. The values stay on the Java heap: a consumer that runs on plain arrays (the
 * Java interpreter) never pays for an ND4J copy.
 */
public record Batch(float[] values, long[] shape, int[] labels, long[] ids) {

  public int size() {
    return (int) shape[0];
  }

  /** The features as a new ND4J array of {@link #shape()} (a copy off the Java heap, made on every call). */
  public INDArray features() {
    return Nd4j.create(values, shape, 'c');
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
    return new DataSet(features(), oneHotLabels(numClasses));
  }
}
