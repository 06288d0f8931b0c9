package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.jobs.train.TrainJob;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sparkquant train}: synchronous data-parallel training with parameter averaging. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Train a float baseline (cnn or mlp) on a Parquet tensor dataset with synchronous"
        + " parameter averaging on Spark; writes model.zip and manifest.json.")
public final class TrainCommand implements Callable<Integer> {

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--data", required = true, description = "Training dataset (Parquet tensor format).")
  String data;

  @Option(names = "--validation",
      description = "Labelled dataset scored after every epoch (accuracy in the progress lines). Default: none.")
  String validation;

  @Option(names = "--out", required = true, description = "Output directory (model.zip, manifest.json).")
  String out;

  @Option(names = "--preset", defaultValue = "cnn",
      description = "Network: cnn (conv-BN-pool x2, dense 128), micro (depthwise-separable, 15k parameters) or mlp "
          + "(784-256-128-10). Default: ${DEFAULT-VALUE}.")
  String preset;

  @Option(names = "--epochs", defaultValue = "3", description = "Passes over the data. Default: ${DEFAULT-VALUE}.")
  int epochs;

  @Mixin AveragingOptions averaging;

  @Option(names = "--learning-rate", defaultValue = "" + TrainConfig.DEFAULT_LEARNING_RATE,
      description = "Adam learning rate of the first epoch. Default: ${DEFAULT-VALUE}.")
  double learningRate;

  @Option(names = "--lr-decay", defaultValue = "" + TrainConfig.DEFAULT_LEARNING_RATE_DECAY,
      description = "Factor applied to the learning rate after every epoch, in (0, 1]; 1 keeps it constant."
          + " Default: ${DEFAULT-VALUE}.")
  double learningRateDecay;

  @Option(names = "--seed", defaultValue = "" + TrainConfig.DEFAULT_SEED,
      description = "Weight initialization seed; same seed and partitioning give the same model. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--limit", defaultValue = "0",
      description = "Train on the first N rows only (quick runs); 0 = all. Default: ${DEFAULT-VALUE}.")
  long limit;

  @Option(names = "--overwrite", description = "Replace --out if it exists. Default: false.")
  boolean overwrite;

  @Override
  public Integer call() {
    TrainJob.Options options = options();
    SparkSession spark = sparkOptions.session("sparkquant-train");
    PrintWriter console = spec.commandLine().getOut();
    TrainJob.Result result = TrainJob.run(spark, options, stats -> {
      console.println(stats.describe());
      console.flush();
    });
    console.printf("Trained %s on %d rows in %.1f s; model: %s%n", options.train().preset().cliName(),
        result.training().rows(), result.training().trainMillis() / 1000.0, result.modelPath());
    return 0;
  }

  /** Builds and checks the options before Spark starts; problems become usage errors. */
  private TrainJob.Options options() {
    try {
      TrainConfig train = new TrainConfig(Preset.fromCliName(preset),
          averaging.schedule(epochs, seed, learningRate, learningRateDecay));
      CheckedPaths.requireExists(data, "--data");
      if (validation != null) {
        CheckedPaths.requireExists(validation, "--validation");
      }
      OutputDir.checkWritable(new Configuration(), out, overwrite);
      return new TrainJob.Options(data, validation, out, overwrite, limit, train);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }
}
