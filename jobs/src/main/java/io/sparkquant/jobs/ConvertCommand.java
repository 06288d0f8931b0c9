package io.sparkquant.jobs;

import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.IdxConverter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code sparkquant convert}: IDX or CSV files into the Parquet tensor format. */
@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Convert IDX (Fashion-MNIST/MNIST) or CSV files into a Parquet tensor dataset.")
public final class ConvertCommand implements Callable<Integer> {

  enum Format { idx, csv }

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--input", required = true,
      description = "idx: a directory with <split>-images-idx3-ubyte(.gz) and <split>-labels-idx1-ubyte(.gz);"
          + " csv: a CSV file or directory.")
  String input;

  @Option(names = "--format", required = true, description = "Input format: ${COMPLETION-CANDIDATES}.")
  Format format;

  @Option(names = "--out", required = true, description = "Output directory of the Parquet dataset.")
  String out;

  @Option(names = "--split", defaultValue = "train",
      description = "idx only: which files to convert, train (train-*) or test (t10k-*). Default: ${DEFAULT-VALUE}.")
  String split;

  @Option(names = "--class-names", split = ",", description = "Class names in label order, comma separated."
      + " Default: the ten Fashion-MNIST classes.")
  List<String> classNames;

  @Option(names = "--partitions", defaultValue = "2",
      description = "Number of Parquet files written. Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Option(names = "--overwrite", description = "Replace --out if it exists. Default: false.")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    IdxFiles.Split idxSplit = parseSplit(spec, split);
    if (partitions < 1) {
      throw new ParameterException(spec.commandLine(), "--partitions must be >= 1, got " + partitions);
    }
    List<String> names = classNames == null ? FashionMnist.CLASS_NAMES : classNames;
    IdxFiles files;
    if (format == Format.csv) {
      throw new ParameterException(spec.commandLine(), "--format csv is not wired yet (waits for CsvConverter)");
    }
    try {
      files = IdxFiles.find(Path.of(input), idxSplit);
      OutputDir.checkWritable(new Configuration(), out, overwrite);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    SparkSession spark = sparkOptions.session("sparkquant-convert");
    long rows = ConvertJob.idx(spark, files, out, overwrite, names, partitions);
    spec.commandLine().getOut().printf("Converted %d rows (%s, %s) to %s%n", rows, files.images(),
        files.labels(), out);
    return 0;
  }

  static IdxFiles.Split parseSplit(CommandSpec spec, String split) {
    return switch (split) {
      case "train" -> IdxFiles.Split.TRAIN;
      case "test" -> IdxFiles.Split.TEST;
      default -> throw new ParameterException(spec.commandLine(),
          "--split must be train or test, got '" + split + "'; valid: " + Arrays.toString(new String[] {"train", "test"}));
    };
  }
}
