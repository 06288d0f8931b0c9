package io.sparkquant.jobs.train;

/**
 * How {@link ParameterAveragingTrainer} trains a network, whatever network it is (immutable; checked on
 * construction): the part of the train options that a preset does not decide, shared by {@code train} and
 * {@code qat}.
 *
 * @param epochs passes over the training data
 * @param batchSize minibatch size per worker step
 * @param partitions number of data partitions (= workers per round); 0 means Spark's default parallelism
 * @param seed weight initialization seed; the same seed and partitioning give the same model
 * @param learningRate Adam learning rate of the first epoch
 * @param learningRateDecay factor applied to the learning rate after every epoch, in (0, 1]; 1 keeps it constant
 * @param localSteps minibatches each worker fits between two parameter averagings
 */
public record Schedule(int epochs, int batchSize, int partitions, long seed, double learningRate,
    double learningRateDecay, int localSteps) {

  public Schedule {
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
