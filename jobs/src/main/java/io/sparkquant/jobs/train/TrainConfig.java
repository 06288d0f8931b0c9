package io.sparkquant.jobs.train;

import com.fasterxml.jackson.annotation.JsonUnwrapped;

/**
 * Options of the {@code train} command's synchronous data-parallel training: a preset network and its
 * {@link Schedule} (immutable; checked on construction).
 *
 * @param preset network architecture
 * @param schedule epochs, batch size, partitions, seed, learning rate and its decay, local steps
 */
// Unwrapped: manifests keep recording the schedule's fields next to the preset, as before the split.
public record TrainConfig(Preset preset, @JsonUnwrapped Schedule schedule) {

  // defaults of the train command (constants so picocli annotations can use them)
  public static final int DEFAULT_BATCH_SIZE = 64;
  public static final double DEFAULT_LEARNING_RATE = 0.002;
  public static final double DEFAULT_LEARNING_RATE_DECAY = 0.7;
  public static final int DEFAULT_LOCAL_STEPS = 8;
  public static final long DEFAULT_SEED = 42;

  public TrainConfig {
    if (preset == null) {
      throw new IllegalArgumentException("preset must be set (cnn or mlp)");
    }
    if (schedule == null) {
      throw new IllegalArgumentException("schedule must be set");
    }
  }

  /** A preset with the schedule {@code new Schedule(epochs, batchSize, ...)}. */
  public TrainConfig(Preset preset, int epochs, int batchSize, int partitions, long seed, double learningRate,
      double learningRateDecay, int localSteps) {
    this(preset, new Schedule(epochs, batchSize, partitions, seed, learningRate, learningRateDecay, localSteps));
  }

  /** A configuration with the default batch size, learning rate and local steps. */
  public static TrainConfig withDefaults(Preset preset, int epochs, int partitions, long seed) {
    return new TrainConfig(preset, epochs, DEFAULT_BATCH_SIZE, partitions, seed, DEFAULT_LEARNING_RATE,
        DEFAULT_LEARNING_RATE_DECAY, DEFAULT_LOCAL_STEPS);
  }

  public int epochs() {
    return schedule.epochs();
  }

  public int batchSize() {
    return schedule.batchSize();
  }

  public int partitions() {
    return schedule.partitions();
  }

  public long seed() {
    return schedule.seed();
  }

  public double learningRate() {
    return schedule.learningRate();
  }

  public double learningRateDecay() {
    return schedule.learningRateDecay();
  }

  public int localSteps() {
    return schedule.localSteps();
  }
}
