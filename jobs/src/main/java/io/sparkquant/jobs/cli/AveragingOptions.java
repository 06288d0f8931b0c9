package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.train.Schedule;
import io.sparkquant.jobs.train.TrainConfig;
import picocli.CommandLine.Option;

/**
 * The parameter-averaging options that {@code train} and {@code qat} share (a picocli mixin): how many workers train
 * in parallel and how much each fits between two averagings. The rest of a {@link Schedule} (epochs, learning rate
 * and its decay, seed) stays with each command: their defaults or meanings differ.
 */
public final class AveragingOptions {

  @Option(names = "--batch-size", defaultValue = "" + TrainConfig.DEFAULT_BATCH_SIZE,
      description = "Minibatch size of each worker step. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(names = "--partitions", defaultValue = "0",
      description = "Data partitions = parallel workers; 0 uses Spark's default parallelism."
          + " Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Option(names = "--local-steps", defaultValue = "" + TrainConfig.DEFAULT_LOCAL_STEPS,
      description = "Minibatches each worker fits between two parameter averagings. Default: ${DEFAULT-VALUE}.")
  int localSteps;

  /** The schedule of these options and the command's own; throws IllegalArgumentException for a bad value. */
  Schedule schedule(int epochs, long seed, double learningRate, double learningRateDecay) {
    return new Schedule(epochs, batchSize, partitions, seed, learningRate, learningRateDecay, localSteps);
  }
}
