package io.sparkquant.jobs.train;

import java.util.Locale;

/**
 * What one training epoch did, summed over all workers.
 *
 * @param trainAccuracy accuracy on the first minibatch of every worker's local steps, measured before that
 *     step's update (a sample: computing it on every batch would cost a third more forward passes)
 * @param samplesPerSecond training samples of all workers per second of epoch wall time (validation excluded)
 * @param validationAccuracy accuracy on the validation dataset after the epoch; NaN without one
 */
public record EpochStats(
    int epoch, int rounds, long samples, double meanLoss, double trainAccuracy,
    double samplesPerSecond, long millis, double validationAccuracy) {

  /** One line for logs and the console. */
  public String describe() {
    String line = String.format(Locale.ROOT,
        "epoch %d: loss %.4f, train accuracy %.4f, %d samples in %.1f s (%.0f samples/s, %d rounds)",
        epoch, meanLoss, trainAccuracy, samples, millis / 1000.0, samplesPerSecond, rounds);
    return Double.isNaN(validationAccuracy) ? line
        : line + String.format(Locale.ROOT, ", validation accuracy %.4f", validationAccuracy);
  }
}
