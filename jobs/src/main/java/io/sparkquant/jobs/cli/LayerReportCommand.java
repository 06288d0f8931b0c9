package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.report.LayerReportJob;
import io.sparkquant.ops.compare.LayerError;
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

/** {@code sparkquant layer-report}: per-tensor SQNR of a quantized .tflite model against its float reference. */
@Command(name = "layer-report", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Run a float reference .tflite and a quantized .tflite of the same graph on the same rows on"
        + " Spark and report, per tensor in graph order, SQNR (dB) and max |error|. Writes layer-report.json,"
        + " report.html and manifest.json.")
public final class LayerReportCommand implements Callable<Integer> {

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--reference", required = true,
      description = "Float reference model (.tflite, usually the float32 export).")
  String reference;

  @Option(names = "--quantized", required = true,
      description = "Quantized model (.tflite: int8, 16x8, dynamic or float16 export of the same graph).")
  String quantized;

  @Option(names = "--data", required = true, description = "Dataset (Parquet tensor format).")
  String data;

  @Option(names = "--rows", defaultValue = "1000",
      description = "Rows to compare on, chosen by a hash of (id, seed). Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of the row choice. Default: ${DEFAULT-VALUE}.")
  int seed;

  @Option(names = "--batch-size", defaultValue = "64",
      description = "Rows per interpreter run. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(names = "--partitions", defaultValue = "0",
      description = "Spread the rows over this many partitions; 0 = as Spark reads them (results do not depend"
          + " on it). Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Option(names = "--out", required = true, description = "Output directory.")
  String out;

  @Option(names = "--overwrite", description = "Replace --out if it exists. Default: false.")
  boolean overwrite;

  @Override
  public Integer call() {
    LayerReportJob.Options options;
    try {
      CheckedPaths.requireFile(reference, "--reference");
      CheckedPaths.requireFile(quantized, "--quantized");
      CheckedPaths.requireExists(data, "--data");
      OutputDir.checkWritable(new Configuration(), out, overwrite);
      options = new LayerReportJob.Options(reference, quantized, data, out, overwrite, rows, seed, batchSize,
          partitions);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    SparkSession spark = sparkOptions.session("sparkquant-layer-report");
    LayerReportJob.Result result = LayerReportJob.run(spark, options);
    PrintWriter console = spec.commandLine().getOut();
    console.printf("%-28s %-18s %-7s %10s %12s%n", "tensor", "op", "type", "SQNR dB", "max |err|");
    for (LayerError e : result.report().layers()) {
      console.printf("%-28s %-18s %-7s %10s %12.5g%n", e.tensor(), e.op(), e.type(),
          e.sqnrDb() == null ? "exact" : String.format(java.util.Locale.ROOT, "%.2f", e.sqnrDb()), e.maxAbsError());
    }
    console.printf("%d rows; report: %s%n", result.report().rows(), result.outDir());
    console.flush();
    return 0;
  }
}
