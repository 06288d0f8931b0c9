package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.qat.QatJob;
import io.sparkquant.jobs.train.TrainConfig;
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

/** {@code sparkquant qat}: quantization-aware fine-tuning with parameter averaging. */
@Command(name = "qat", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Fine-tune a DL4J model with simulated int8 quantization (ranges from a calibration table) on"
        + " Spark; writes model.zip, model-int8.tflite with its model card, and manifest.json.")
public final class QatCommand implements Callable<Integer> {

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--model", required = true, description = "DL4J ModelSerializer zip (e.g. from train).")
  String model;

  @Option(names = "--data", required = true, description = "Training dataset (Parquet tensor format).")
  String data;

  @Option(names = "--calibration", required = true, description = "Calibration table (JSON) of --model.")
  String calibration;

  @Option(names = "--out", required = true, description = "Output directory.")
  String out;

  @Option(names = "--epochs", defaultValue = "1", description = "Passes over the data. Default: ${DEFAULT-VALUE}.")
  int epochs;

  @Option(names = "--learning-rate", defaultValue = "" + QatJob.DEFAULT_LEARNING_RATE,
      description = "Adam learning rate. Default: ${DEFAULT-VALUE}.")
  double learningRate;

  @Option(names = "--batch-size", defaultValue = "" + TrainConfig.DEFAULT_BATCH_SIZE,
      description = "Minibatch size of each worker step. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(names = "--partitions", defaultValue = "0",
      description = "Data partitions = parallel workers; 0 uses Spark's default parallelism. Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Option(names = "--seed", defaultValue = "" + TrainConfig.DEFAULT_SEED,
      description = "Seed of the network's configuration. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--limit", defaultValue = "0",
      description = "Fine-tune on the first N rows only; 0 = all. Default: ${DEFAULT-VALUE}.")
  long limit;

  @Option(names = "--overwrite", description = "Replace --out if it exists. Default: false.")
  boolean overwrite;

  @Override
  public Integer call() {
    QatJob.Options options;
    try {
      options = new QatJob.Options(model, data, calibration, out, epochs, learningRate, batchSize, partitions, seed,
          limit, overwrite);
      CheckedPaths.requireExists(model, "--model");
      CheckedPaths.requireExists(data, "--data");
      CheckedPaths.requireExists(calibration, "--calibration");
      OutputDir.checkWritable(new Configuration(), out, overwrite);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    SparkSession spark = sparkOptions.session("sparkquant-qat");
    PrintWriter console = spec.commandLine().getOut();
    QatJob.Result result = QatJob.run(spark, options, stats -> {
      console.println("qat (simulated int8) " + stats.describe());
      console.flush();
    });
    console.printf(java.util.Locale.ROOT, "Fine-tuned on %d rows in %.1f s; int8 .tflite accuracy on them %.4f;"
        + " wrote %s%n", result.training().rows(), result.training().trainMillis() / 1000.0, result.int8Accuracy(),
        result.outDir());
    return 0;
  }
}
