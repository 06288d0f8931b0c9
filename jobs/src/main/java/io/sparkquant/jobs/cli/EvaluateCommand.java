package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.eval.EvaluateJob;
import io.sparkquant.jobs.eval.ModelComparison;
import io.sparkquant.jobs.eval.TfliteEngine;
import io.sparkquant.jobs.output.OutputDir;
import java.io.PrintWriter;
import java.util.List;
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
    description = "Score a labelled Parquet tensor dataset with one or several models (DL4J zips or .tflite files)"
        + " in one pass; the first --model is the reference the others are compared with. Writes metrics.json,"
        + " predictions.parquet, report.html and manifest.json.")
public final class EvaluateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--model", required = true, arity = "1",
      description = "Model file: a DL4J ModelSerializer zip or a .tflite flatbuffer (recognized by content)."
          + " Repeat to score several models side by side; the first is the reference.")
  List<String> models;

  @Option(names = "--runtime", defaultValue = "java",
      description = "What runs .tflite models: java (SparkQuant's interpreter) or tflite (the TFLite 2.6.2"
          + " native runtime). Default: ${DEFAULT-VALUE}.")
  String runtime;

  @Option(names = "--data", required = true, description = "Labelled dataset (Parquet tensor format).")
  String data;

  @Option(names = "--out", required = true,
      description = "Output directory (metrics.json, predictions.parquet, report.html, manifest.json).")
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
    EvaluateJob.Options options = options(spec, models, data, out, overwrite, batchSize, limit, runtime);
    SparkSession spark = sparkOptions.session("sparkquant-evaluate");
    EvaluateJob.Result result = EvaluateJob.run(spark, options);
    print(spec.commandLine().getOut(), result);
    return 0;
  }

  static void print(PrintWriter console, EvaluateJob.Result result) {
    console.printf("Accuracy %.4f on %d rows (weighted F1 %.4f, %.0f rows/s)%n", result.metrics().accuracy(),
        result.metrics().rows(), result.metrics().weightedF1(), result.inferenceRowsPerSecond());
    if (result.models().size() > 1) {
      for (ModelComparison.ModelReport m : result.models()) {
        console.printf("  %-24s accuracy %.4f  size %9d bytes  top-1 agreement %.4f  mean |dp| %.5f%n", m.key(),
            m.metrics().accuracy(), m.sizeBytes(), m.agreementWithReference().top1(),
            m.agreementWithReference().meanAbsProbDelta());
      }
    }
    console.printf("Metrics: %s%nPredictions: %s%nReport: %s%n", result.metricsPath(), result.predictionsPath(),
        result.reportPath());
    console.flush();
  }

  static EvaluateJob.Options options(CommandSpec spec, List<String> models, String data, String out,
      boolean overwrite, int batchSize, long limit, String runtime) {
    try {
      TfliteEngine engine = TfliteEngine.fromCliName(runtime);
      for (String model : models) {
        CheckedPaths.requireFile(model, "--model");
      }
      CheckedPaths.requireExists(data, "--data");
      OutputDir.checkWritable(new Configuration(), out, overwrite);
      return new EvaluateJob.Options(models, data, out, overwrite, batchSize, limit, engine);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }
}
