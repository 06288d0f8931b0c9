package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.eval.TfliteEngine;
import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.predict.PredictJob;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sparkquant predict}: score a dataset without labels. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Score a Parquet tensor dataset that needs no labels with a model (a .tflite file or a DL4J zip)."
        + " Writes predictions.parquet (id, prediction, probability[, top_k]) and manifest.json.")
public final class PredictCommand implements Callable<Integer> {

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--model", required = true,
      description = "Model file: a .tflite flatbuffer or a DL4J ModelSerializer zip (recognized by content).")
  String model;

  @Option(names = "--data", required = true,
      description = "Dataset (Parquet, features column; label optional). Files without SparkQuant's tensor metadata"
          + " take the row shape from the model.")
  String data;

  @Option(names = "--out", required = true, description = "Output directory (predictions.parquet, manifest.json).")
  String out;

  @Option(names = "--top-k", defaultValue = "0",
      description = "Also write top_k: the K most probable class indices, most probable first; 0 = none."
          + " Default: ${DEFAULT-VALUE}.")
  int topK;

  @Option(names = "--runtime", defaultValue = "java",
      description = "What runs a .tflite model: java (SparkQuant's interpreter) or tflite (the TFLite 2.6.2 native"
          + " runtime). Default: ${DEFAULT-VALUE}.")
  String runtime;

  @Option(names = "--batch-size", defaultValue = "256",
      description = "Rows scored per model call. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(names = "--overwrite", description = "Replace --out if it exists. Default: false.")
  boolean overwrite;

  @Override
  public Integer call() {
    PredictJob.Options options;
    try {
      CheckedPaths.requireFile(model, "--model");
      CheckedPaths.requireExists(data, "--data");
      OutputDir.checkWritable(new Configuration(), out, overwrite);
      options = new PredictJob.Options(model, data, out, topK, batchSize, TfliteEngine.fromCliName(runtime),
          overwrite);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    SparkSession spark = sparkOptions.session("sparkquant-predict");
    PredictJob.Result result = PredictJob.run(spark, options);
    spec.commandLine().getOut().printf("Predicted %d rows%nPredictions: %s%nManifest: %s%n", result.rows(),
        result.predictionsPath(), result.manifestPath());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
