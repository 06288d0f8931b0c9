package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.qat.QatJob;
import io.sparkquant.jobs.train.ParameterAveragingTrainer;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.ops.export.ExportOptions;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkquant qat}: quantization-aware fine-tuning with parameter averaging. Everything but the training is
 * checked before Spark starts (the model is imported and its QAT network checked, the datasets' shapes compared with
 * the model's input): a bad input exits with 2; a diverged training (NaN loss) prints one line and exits with 1.
 */
@Command(name = "qat", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Fine-tune a DL4J model with simulated int8 quantization on Spark, scoring the exported int8 .tflite"
        + " every epoch; writes model.zip, model-int8.tflite with its model card, and manifest.json, and a checkpoint"
        + " per epoch under <out>.checkpoints (--resume continues from the last one).")
public final class QatCommand implements Callable<Integer> {

  static final int EXIT_DIVERGED = 1;

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--model", required = true, description = "DL4J ModelSerializer zip (e.g. from train).")
  String model;

  @Option(names = "--data", required = true, description = "Training dataset (Parquet tensor format).")
  String data;

  @Option(names = "--validation", description = "Labelled dataset scored after every epoch: simulated and int8 "
      + "accuracy. Default: none (the int8 model is scored on the fine-tuning rows).")
  String validation;

  @Option(names = "--calibration", description = "Calibration table (JSON) of --model: the initial ranges. "
      + "Default: none, calibrate on --data first (--calibration-method, --calibration-rows).")
  String calibration;

  @Option(names = "--calibration-method", defaultValue = "minmax",
      description = "Range method of the calibration run without --calibration, as `calibrate --method`: minmax, "
          + "percentile, percentile:P, entropy, mse. Default: ${DEFAULT-VALUE}.")
  String calibrationMethod;

  @Option(names = "--calibration-rows", defaultValue = "" + QatJob.DEFAULT_CALIBRATION_ROWS,
      description = "Rows of --data that calibration observes (the smallest seeded id hashes). "
          + "Default: ${DEFAULT-VALUE}.")
  long calibrationRows;

  @Option(names = "--out", required = true, description = "Output directory.")
  String out;

  @Option(names = "--epochs", defaultValue = "1", description = "Passes over the data. Default: ${DEFAULT-VALUE}.")
  int epochs;

  @Option(names = "--learning-rate", defaultValue = "" + QatJob.DEFAULT_LEARNING_RATE,
      description = "Adam learning rate. Default: ${DEFAULT-VALUE}.")
  double learningRate;

  @Option(names = "--lr-decay", defaultValue = "1.0",
      description = "Factor applied to the learning rate after every epoch, in (0, 1]. Default: ${DEFAULT-VALUE}.")
  double learningRateDecay;

  @Mixin AveragingOptions averaging;

  @Option(names = "--seed", defaultValue = "" + TrainConfig.DEFAULT_SEED,
      description = "Seed of the network's configuration, the --fraction subset and the calibration sample. "
          + "Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--fraction", defaultValue = "0",
      description = "Fine-tune on this fraction of --data, chosen by a seeded hash of the row id (the same rows "
          + "whatever the partitioning); 0 = all rows. Default: ${DEFAULT-VALUE}.")
  double fraction;

  @Option(names = "--limit", defaultValue = "0",
      description = "Then use only the first N rows; 0 = all. Default: ${DEFAULT-VALUE}.")
  long limit;

  @Option(names = "--per-tensor-weights", description = "One weight scale per tensor for every layer, in the "
      + "simulation and the export (per output channel for conv/depthwise otherwise). Default: false.")
  boolean perTensorWeights;

  @Option(names = "--io", defaultValue = "float", description = "Input/output type of the exported model: float "
      + "(QUANTIZE/DEQUANTIZE inside) or int8. Default: ${DEFAULT-VALUE}.")
  String io;

  @Option(names = "--freeze-ranges-after", defaultValue = "" + QatJob.DEFAULT_FREEZE_RANGES_AFTER,
      description = "Refresh the activation ranges at the end of epochs 1 to E (never after the last epoch; 0 = "
          + "never): statistics of the fine-tuned float network on the calibration sample, merged across all "
          + "partitions, averaged into the ranges with --range-momentum. Default: ${DEFAULT-VALUE}.")
  int freezeRangesAfter;

  @Option(names = "--range-momentum", defaultValue = "" + QatJob.DEFAULT_RANGE_MOMENTUM,
      description = "Weight of the current range in a refresh: new = m * current + (1 - m) * observed, in [0, 1)."
          + " Default: ${DEFAULT-VALUE}.")
  double rangeMomentum;

  @Option(names = "--checkpoint-dir", description = "Where a checkpoint is written after every epoch "
      + "(epoch-N/model.zip and checkpoint.json, each written atomically). Default: <out>.checkpoints.")
  String checkpointDir;

  @Option(names = "--resume", description = "Continue after the last complete checkpoint; its options and inputs "
      + "must match this run's (the epoch count may grow). Default: false.")
  boolean resume;

  @Option(names = "--overwrite", description = "Replace --out if it exists, and start over if the checkpoint "
      + "directory holds a previous run's checkpoints. Default: false.")
  boolean overwrite;

  @Override
  public Integer call() {
    QatJob.Prepared prepared;
    try {
      QatJob.Options options = new QatJob.Options(model, data, validation, calibration, calibrationMethod,
          calibrationRows, out, averaging.schedule(epochs, seed, learningRate, learningRateDecay), fraction, limit,
          perTensorWeights, ioType(io), freezeRangesAfter, rangeMomentum, checkpointDir, resume, overwrite);
      CheckedPaths.requireFile(model, "--model");
      CheckedPaths.requireDirectory(data, "--data");
      if (validation != null) {
        CheckedPaths.requireDirectory(validation, "--validation");
      }
      if (calibration != null) {
        CheckedPaths.requireFile(calibration, "--calibration");
      }
      Configuration conf = new Configuration();
      OutputDir.checkWritable(conf, out, overwrite);
      prepared = QatJob.prepare(conf, options);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    SparkSession spark = sparkOptions.session("sparkquant-qat");
    PrintWriter console = spec.commandLine().getOut();
    QatJob.Result result;
    try {
      result = QatJob.run(spark, prepared, stats -> {
        console.println("qat " + stats.describe());
        console.flush();
      });
    } catch (ParameterAveragingTrainer.DivergedException e) {
      spec.commandLine().getErr().println("qat: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return EXIT_DIVERGED;
    }
    console.printf(Locale.ROOT, "Fine-tuned on %d rows in %.1f s; int8 .tflite accuracy %.4f; wrote %s%n",
        result.training().rows(), result.training().trainMillis() / 1000.0, result.int8Accuracy(),
        result.outDir());
    return 0;
  }

  private static ExportOptions.IoType ioType(String io) {
    return switch (io) {
      case "float" -> ExportOptions.IoType.FLOAT;
      case "int8" -> ExportOptions.IoType.INT8;
      default -> throw new IllegalArgumentException("--io must be float or int8, got '" + io + "'");
    };
  }
}
