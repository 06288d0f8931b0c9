package io.sparkquant.jobs.qat;

import io.sparkquant.jobs.train.EpochStats;
import java.util.Locale;

/**
 * One QAT epoch: the trainer's statistics of the fake-quant (simulated) network, and the accuracy of the int8
 * .tflite exported at the epoch's end, scored on the executors by the Java interpreter: what would ship.
 *
 * @param training loss, sampled simulated train accuracy and, with validation rows, simulated validation accuracy
 * @param int8Accuracy accuracy of the exported int8 model on {@code int8Rows}
 * @param int8Rows "validation" or "training": the rows the int8 model was scored on
 * @param rangesRefreshed whether the activation ranges were refreshed at this epoch's end, after its export (the next
 *     epoch trains with them)
 * @param int8Millis export and scoring time
 */
public record QatEpochStats(EpochStats training, double int8Accuracy, String int8Rows, boolean rangesRefreshed,
    long int8Millis) {

  /** One progress line. */
  public String describe() {
    EpochStats t = training;
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
        "epoch %d: loss %.4f, simulated accuracy %.4f (training sample)", t.epoch(), t.meanLoss(), t.trainAccuracy()));
    if (!Double.isNaN(t.validationAccuracy())) {
      s.append(String.format(Locale.ROOT, ", simulated validation accuracy %.4f", t.validationAccuracy()));
    }
    s.append(String.format(Locale.ROOT, ", int8 .tflite accuracy %.4f (%s rows)%s; %.1f s training (%.0f samples/s),"
        + " %.1f s export and scoring", int8Accuracy, int8Rows,
        rangesRefreshed ? ", ranges refreshed for the next epoch" : "",
        t.millis() / 1000.0, t.samplesPerSecond(), int8Millis / 1000.0));
    return s.toString();
  }
}
