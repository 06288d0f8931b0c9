package io.sparkquant.jobs.train;

import java.io.Serializable;

/**
 * Sums over the workers of one averaging round (mergeable, STYLE.md section 4): parameters and updater
 * state weighted by the samples each worker fitted, plus loss and sampled-accuracy counts. {@link #empty()}
 * is the identity (null vectors); {@code add}/{@code merge} mutate only the receiver.
 *
 * <p>Sums are kept in double: float parameters add exactly in double unless one coordinate's values span
 * more than 2^29 in magnitude, so the float average does not depend on the order Spark merges results.
 */
final class RoundStats implements Serializable {

  private static final long serialVersionUID = 1L;

  double[] weightedParams;
  double[] weightedUpdaterState;
  long samples;
  double lossSum;
  long accuracySamples;
  long accuracyCorrect;
  int maxSteps;

  static RoundStats empty() {
    return new RoundStats();
  }

  /** One worker's result: its parameters and updater state after {@code steps} minibatches. */
  static RoundStats ofWorker(float[] params, float[] updaterState, long samples, double lossSum,
      long accuracySamples, long accuracyCorrect, int steps) {
    RoundStats s = new RoundStats();
    s.weightedParams = scaled(params, samples);
    s.weightedUpdaterState = scaled(updaterState, samples);
    s.samples = samples;
    s.lossSum = lossSum;
    s.accuracySamples = accuracySamples;
    s.accuracyCorrect = accuracyCorrect;
    s.maxSteps = steps;
    return s;
  }

  private static double[] scaled(float[] values, long weight) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (double) values[i] * weight;
    }
    return out;
  }

  RoundStats merge(RoundStats other) {
    weightedParams = addInto(weightedParams, other.weightedParams);
    weightedUpdaterState = addInto(weightedUpdaterState, other.weightedUpdaterState);
    samples += other.samples;
    lossSum += other.lossSum;
    accuracySamples += other.accuracySamples;
    accuracyCorrect += other.accuracyCorrect;
    maxSteps = Math.max(maxSteps, other.maxSteps);
    return this;
  }

  private static double[] addInto(double[] into, double[] from) {
    if (from == null) {
      return into;
    }
    if (into == null) {
      return from.clone();
    }
    if (into.length != from.length) {
      throw new IllegalStateException("Cannot merge vectors of length " + into.length + " and " + from.length);
    }
    for (int i = 0; i < into.length; i++) {
      into[i] += from[i];
    }
    return into;
  }

  float[] averageParams() {
    return average(weightedParams);
  }

  float[] averageUpdaterState() {
    return average(weightedUpdaterState);
  }

  private float[] average(double[] weighted) {
    if (samples == 0) {
      throw new IllegalStateException("No worker fitted any sample in this round");
    }
    float[] out = new float[weighted.length];
    for (int i = 0; i < weighted.length; i++) {
      out[i] = (float) (weighted[i] / samples);
    }
    return out;
  }
}
