package io.sparkquant.jobs.cli;

import io.sparkquant.data.CsvOptions;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.jobs.convert.ConvertJob;
import io.sparkquant.jobs.convert.IdxFiles;
import io.sparkquant.jobs.output.OutputDir;
import java.util.Arrays;
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
      + " Default: idx: the ten Fashion-MNIST classes; csv: \"0\"..\"max label\".")
  List<String> classNames;

  @Option(names = "--csv-label", defaultValue = "label",
      description = "csv only: label column, a name (needs a header) or a 0-based index. Default: ${DEFAULT-VALUE}.")
  String csvLabel;

  @Option(names = "--csv-id",
      description = "csv only: id column name; without one, ids are the data row index. Default: none.")
  String csvId;

  @Option(names = "--csv-header", defaultValue = "true", arity = "1",
      description = "csv only: whether the first line is a header. Default: ${DEFAULT-VALUE}.")
  boolean csvHeader;

  @Option(names = "--csv-delimiter", defaultValue = ",",
      description = "csv only: field delimiter. Default: '${DEFAULT-VALUE}'.")
  String csvDelimiter;

  @Option(names = "--shape", split = ",",
      description = "csv only: feature shape, e.g. 28,28,1 (HWC). Default: [number of feature columns].")
  int[] shape;

  @Option(names = "--partitions", defaultValue = "2",
      description = "idx only: number of Parquet files written. Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Option(names = "--overwrite", description = "Replace --out if it exists. Default: false.")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    IdxFiles.Split idxSplit = parseSplit(spec, split);
    if (partitions < 1) {
      throw new ParameterException(spec.commandLine(), "--partitions must be >= 1, got " + partitions);
    }
    IdxFiles files = null;
    CsvOptions csv = null;
    try {
      if (format == Format.idx) {
        files = IdxFiles.find(new Configuration(), input, idxSplit);
      } else {
        csv = csvOptions();
        CheckedPaths.requireExists(input, "--input");
      }
      OutputDir.checkWritable(new Configuration(), out, overwrite);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    SparkSession spark = sparkOptions.session("sparkquant-convert");
    long rows = format == Format.idx
        ? ConvertJob.idx(spark, files, out, overwrite, classNames == null ? FashionMnist.CLASS_NAMES : classNames,
            partitions)
        : ConvertJob.csv(spark, input, out, overwrite, csv);
    spec.commandLine().getOut().printf("Converted %d rows from %s to %s%n", rows, input, out);
    return 0;
  }

  private CsvOptions csvOptions() {
    CsvOptions.Builder b = CsvOptions.builder().header(csvHeader).delimiter(csvDelimiter);
    if (csvLabel.matches("\\d+")) {
      b.labelColumn(Integer.parseInt(csvLabel));
    } else {
      b.labelColumn(csvLabel);
    }
    if (csvId != null) {
      b.idColumn(csvId);
    }
    if (shape != null) {
      b.shape(shape);
    }
    if (classNames != null) {
      b.classNames(classNames);
    }
    return b.build();
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
