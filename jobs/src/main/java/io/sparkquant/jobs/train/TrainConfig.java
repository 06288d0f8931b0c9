package io.sparkquant.jobs.train;

/**
 * Options of synchronous data-parallel training (immutable; checked on construction).
 *
 * @param preset network architecture
 * @param epochs passes over the training data
 * @param batchSize minibatch size per worker step
 * @param partitions number of data partitions (= workers per round); 0 means Spark's default parallelism
 * @param seed weight initialization seed; the same seed and partitioning give the same model
 * @param learningRate Adam learning rate of the first epoch
 * @param learningRateDecay factor applied to the learning rate after every epoch, in (0, 1]; 1 keeps it constant
 * @param localSteps minibatches each worker fits between two parameter averagings
 */
public record TrainConfig(
    Preset preset, int epochs, int batchSize, int partitions, long seed, double learningRate, double learningRateDecay,
    int localSteps) {

  // defaults of the train command (constants so picocli annotations can use them)
  public static final int DEFAULT_BATCH_SIZE = 64;
  public static final double DEFAULT_LEARNING_RATE = 0.002;
  public static final double DEFAULT_LEARNING_RATE_DECAY = 0.7;
  public static final int DEFAULT_LOCAL_STEPS = 8;
  public static final long DEFAULT_SEED = 42;

  /** A configuration with the default batch size, learning rate and local steps. */
  public static TrainConfig withDefaults(Preset preset, int epochs, int partitions, long seed) {
    return new TrainConfig(preset, epochs, DEFAULT_BATCH_SIZE, partitions, seed, DEFAULT_LEARNING_RATE,
        DEFAULT_LEARNING_RATE_DECAY, DEFAULT_LOCAL_STEPS);
  }

  public TrainConfig {
    if (preset == null) {
      throw new IllegalArgumentException("preset must be set (cnn or mlp)");
    }
    requirePositive("epochs", epochs);
    requirePositive("batchSize", batchSize);
    if (partitions < 0) {
      throw new IllegalArgumentException("partitions must be >= 0 (0 = Spark default parallelism), got "
          + partitions);
    }
    if (!(learningRate > 0 && learningRate < 1)) {
      throw new IllegalArgumentException("learningRate must be in (0, 1), got " + learningRate);
    }
    if (!(learningRateDecay > 0 && learningRateDecay <= 1)) {
      throw new IllegalArgumentException("learningRateDecay must be in (0, 1], got " + learningRateDecay);
    }
    requirePositive("localSteps", localSteps);
  }

  private static void requirePositive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, got " + value);
    }
  }
}
