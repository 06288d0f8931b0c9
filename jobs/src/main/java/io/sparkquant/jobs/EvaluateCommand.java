package io.sparkquant.jobs;

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

/** {@code sparkquant evaluate}: score a labelled dataset with a model on Spark. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Score a labelled Parquet tensor dataset with a float DL4J model (MultiLayerNetwork or"
        + " ComputationGraph zip); writes metrics.json, predictions.parquet and manifest.json.")
public final class EvaluateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--model", required = true, description = "Model file (DL4J ModelSerializer zip).")
  String model;

  @Option(names = "--data", required = true, description = "Labelled dataset (Parquet tensor format).")
  String data;

  @Option(names = "--out", required = true,
      description = "Output directory (metrics.json, predictions.parquet, manifest.json).")
  String out;

  @Option(names = "--batch-size", defaultValue = "256",
      description = "Rows scored per model call. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(names = "--limit", defaultValue = "0",
      description = "Score the first N rows only (quick runs); 0 = all. Default: ${DEFAULT-VALUE}.")
  long limit;

  @Option(names = "--overwrite", description = "Replace --out if it exists. Default: false.")
  boolean overwrite;

  @Override
  public Integer call() {
    EvaluateJob.Options options = options(spec, model, data, out, overwrite, batchSize, limit);
    SparkSession spark = sparkOptions.session("sparkquant-evaluate");
    EvaluateJob.Result result = EvaluateJob.run(spark, options);
    print(spec.commandLine().getOut(), result);
    return 0;
  }

  static void print(PrintWriter console, EvaluateJob.Result result) {
    console.printf("Accuracy %.4f on %d rows (weighted F1 %.4f, %.0f rows/s)%n", result.metrics().accuracy(),
        result.metrics().rows(), result.metrics().weightedF1(), result.inferenceRowsPerSecond());
    console.printf("Metrics: %s%nPredictions: %s%n", result.metricsPath(), result.predictionsPath());
    console.flush();
  }

  static EvaluateJob.Options options(CommandSpec spec, String model, String data, String out, boolean overwrite,
      int batchSize, long limit) {
    try {
      CheckedPaths.requireExists(model, "--model");
      CheckedPaths.requireExists(data, "--data");
      OutputDir.checkWritable(new Configuration(), out, overwrite);
      return new EvaluateJob.Options(model, data, out, overwrite, batchSize, limit);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }
}
