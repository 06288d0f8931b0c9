package io.sparkquant.jobs.eval;

import io.sparkquant.data.Layout;

/**
 * A model that scores a batch of features: the one thing evaluation needs from a model, so float DL4J
 * networks and .tflite models (float, dynamic-range, int8) are scored by the same Spark job. Implementations
 * need not be thread-safe: {@link io.sparkquant.jobs.spark.ExecutorCache} hands each task its own instance.
 */
public interface Predictor {

  /** The batch layout {@link #predict} expects (as {@code Batches} produces it). */
  Layout layout();

  /**
   * @param features one batch in {@link #layout()}, row-major; not modified
   * @param shape its dimensions, the first being the number of rows
   * @return probabilities, one row per example and one column per class
   */
  float[][] predict(float[] features, long[] shape);

  /** An independent instance for another thread, sharing nothing mutable (no re-parsing of model bytes). */
  Predictor copy();
}
