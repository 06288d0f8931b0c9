package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.calib.CalibrateJob;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.jobs.output.OutputFiles;
import io.sparkquant.ops.calib.BinLayout;
import io.sparkquant.ops.calib.RangeMethod;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sparkquant calibrate}: distributed calibration of a float model's activation ranges. */
@Command(name = "calibrate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Run a float DL4J model over a (sampled) Parquet tensor dataset on Spark, observe every tensor"
        + " the int8 model quantizes, and write a calibration table (JSON) with each tensor's statistics, chosen"
        + " range, scale and zero point, plus <out>.manifest.json. The table depends only on the rows, the"
        + " method and the seed, not on the partitioning.")
public final class CalibrateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--model", required = true, description = "Float model (DL4J ModelSerializer zip).")
  String model;

  @Option(names = "--data", required = true, description = "Calibration dataset (Parquet tensor format).")
  String data;

  @Option(names = "--out", required = true,
      description = "Calibration table file (JSON); the manifest goes next to it as <name>.manifest.json.")
  String out;

  @Option(names = "--method", defaultValue = "minmax",
      description = "Range method: minmax, percentile, entropy (KL, as TensorRT) or mse. Default: ${DEFAULT-VALUE}.")
  String method;

  @Option(names = "--percentile",
      description = "Percentile kept on each side for --method percentile, in (50, 100]. Default: "
          + RangeMethod.DEFAULT_PERCENTILE + ".")
  Double percentile;

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  Sample sample;

  static final class Sample {
    @Option(names = "--rows", description = "Calibrate on exactly N rows (the smallest seeded id hashes).")
    Long rows;

    @Option(names = "--fraction", description = "Calibrate on this fraction of rows, in (0, 1], by seeded id hash.")
    Double fraction;
  }

  @Option(names = "--seed", defaultValue = "0",
      description = "Seed of the row sampling. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--partitions", defaultValue = "0",
      description = "Partitions of the calibration work; 0 = the input's partitions or, if fewer, Spark's default"
          + " parallelism (the sampled rows are then spread over it). The table does not depend on it."
          + " Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Option(names = "--batch-size", defaultValue = "" + Calibrator.DEFAULT_BATCH_SIZE,
      description = "Rows per interpreter run on an executor (the table does not depend on it). Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(names = "--bins", defaultValue = "" + BinLayout.DEFAULT_TARGET_BINS,
      description = "Histogram bins for percentile/entropy/mse. Default: ${DEFAULT-VALUE}.")
  int bins;

  @Option(names = "--overwrite", description = "Replace --out if it exists. Default: false.")
  boolean overwrite;

  @Override
  public Integer call() {
    CalibrateJob.Options options = options();
    SparkSession spark = sparkOptions.session("sparkquant-calibrate");
    CalibrateJob.Result result = CalibrateJob.run(spark, options);
    spec.commandLine().getOut().printf("Calibrated %d tensors on %d rows with %s in %.1f s: %s%n",
        result.run().table().tensors().size(), result.run().rows(), options.method(),
        result.totalMillis() / 1000.0, result.tablePath());
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** Resolves and validates every option before Spark starts. */
  CalibrateJob.Options options() {
    try {
      RangeMethod rangeMethod = RangeMethod.parse(method, percentile);
      long rows = sample == null || sample.rows == null ? 0 : sample.rows;
      double fraction = sample == null || sample.fraction == null ? 0 : sample.fraction;
      if (sample != null && sample.rows != null && (rows < 1 || rows > Integer.MAX_VALUE)) {
        throw new IllegalArgumentException("--rows must be in [1, " + Integer.MAX_VALUE + "], got " + rows);
      }
      if (sample != null && sample.fraction != null && !(fraction > 0 && fraction <= 1)) {
        throw new IllegalArgumentException("--fraction must be in (0, 1], got " + fraction);
      }
      if (batchSize < 1) {
        throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
      }
      if (partitions < 0) {
        throw new IllegalArgumentException("--partitions must be >= 0, got " + partitions);
      }
      if (bins < 2) {
        throw new IllegalArgumentException("--bins must be >= 2, got " + bins);
      }
      CheckedPaths.requireFile(model, "--model");
      CheckedPaths.requireExists(data, "--data");
      OutputFiles.checkWritable(new Configuration(), out, overwrite, "--out");
      OutputFiles.checkWritable(new Configuration(), CalibrateJob.manifestPath(out), overwrite, "--out's manifest");
      return new CalibrateJob.Options(model, data, out, rangeMethod.name(),
          rangeMethod instanceof RangeMethod.Percentile p ? p.percentile() : null, rows, fraction, seed, partitions,
          batchSize, bins, overwrite);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }
}
