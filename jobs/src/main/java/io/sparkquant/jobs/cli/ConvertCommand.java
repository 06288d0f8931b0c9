package io.sparkquant.jobs.cli;

import io.sparkquant.data.CsvOptions;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.ImageFolderConverter;
import io.sparkquant.data.TensorDatasets;
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

/** {@code sparkquant convert}: IDX, image folders, CSV or any Parquet into the Parquet tensor format. */
@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Convert IDX (Fashion-MNIST/MNIST) files, a folder of PNG/JPEG images (one sub-folder per class),"
        + " CSV files or any Parquet dataset with named columns into a Parquet tensor dataset.")
public final class ConvertCommand implements Callable<Integer> {

  enum Format { idx, images, csv, parquet }

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--input", required = true,
      description = "idx: a directory with <split>-images-idx3-ubyte(.gz) and <split>-labels-idx1-ubyte(.gz);"
          + " images: a directory with one sub-folder of .png/.jpg/.jpeg files per class; csv: a CSV file or"
          + " directory; parquet: a Parquet file or directory.")
  String input;

  @Option(names = {"--from", "--format"}, required = true, description = "Input format: ${COMPLETION-CANDIDATES}.")
  Format format;

  @Option(names = "--out", required = true, description = "Output directory of the Parquet dataset.")
  String out;

  @Option(names = "--split", defaultValue = "train",
      description = "idx only: which files to convert, train (train-*) or test (t10k-*). Default: ${DEFAULT-VALUE}.")
  String split;

  @Option(names = "--class-names", split = ",", description = "Class names in label order, comma separated."
      + " Default: idx: the ten Fashion-MNIST classes; images: the sorted sub-folder names (cannot be given);"
      + " csv, parquet: \"0\"..\"max label\", or \"unknown\" for unlabelled data.")
  List<String> classNames;

  @Option(names = "--size",
      description = "images only: resize every image to HxW (e.g. 28x28) with bilinear interpolation. Default:"
          + " none, all images must have the same size.")
  String size;

  @Option(names = "--channels",
      description = "images only: 1 (gray; colour becomes 0.299R+0.587G+0.114B) or 3 (RGB). Default: 1 if every"
          + " image is gray, else 3.")
  Integer channels;

  @Option(names = "--features-col",
      description = "parquet: the features column (array<float>, array<double> or Spark ML Vector); csv: the"
          + " feature columns, comma separated, or a name prefix ending in '*' (px*). Default: parquet: features;"
          + " csv: every column but the label and id.")
  String featuresCol;

  @Option(names = {"--label-col", "--csv-label"}, defaultValue = "label",
      description = "csv, parquet: label column (class indices); csv also takes a 0-based index. Default:"
          + " ${DEFAULT-VALUE}.")
  String labelCol;

  @Option(names = "--no-label",
      description = "csv, parquet: the data has no label column (data to predict on). Default: false.")
  boolean noLabel;

  @Option(names = {"--id-col", "--csv-id"},
      description = "csv, parquet: id column (integral); without one, ids are the row position. Default: none.")
  String idCol;

  @Option(names = "--csv-header", defaultValue = "true", arity = "1",
      description = "csv only: whether the first line is a header. Default: ${DEFAULT-VALUE}.")
  boolean csvHeader;

  @Option(names = "--csv-delimiter", defaultValue = ",",
      description = "csv only: field delimiter. Default: '${DEFAULT-VALUE}'.")
  String csvDelimiter;

  @Option(names = "--shape", split = ",",
      description = "csv, parquet: feature shape, e.g. 28,28,1 (HWC) or 784; every row must have the product of"
          + " values. Default: csv: [number of feature columns]; parquet: required.")
  int[] shape;

  @Option(names = "--partitions", defaultValue = "2",
      description = "idx, images: number of Parquet files written. Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Option(names = "--overwrite", description = "Replace --out if it exists. Default: false.")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    IdxFiles.Split idxSplit = parseSplit(spec, split);
    IdxFiles files = null;
    CsvOptions csv = null;
    ImageFolderConverter.Options images = null;
    TensorDatasets.Columns columns = null;
    try {
      checkApplies();
      switch (format) {
        case idx -> files = IdxFiles.find(new Configuration(), input, idxSplit);
        case images -> {
          CheckedPaths.requireDirectory(input, "--input");
          int[] hw = size == null ? new int[] {0, 0} : ImageFolderConverter.Options.parseSize(size);
          images = new ImageFolderConverter.Options(hw[0], hw[1], channels == null ? 0 : channels, partitions);
        }
        case csv -> {
          csv = csvOptions();
          CheckedPaths.requireExists(input, "--input");
        }
        case parquet -> {
          if (shape == null) {
            throw new IllegalArgumentException("--shape is required with --from parquet (e.g. 28,28,1 or 784):"
                + " Parquet columns do not record it");
          }
          columns = new TensorDatasets.Columns(featuresCol == null ? TensorDatasets.FEATURES : featuresCol,
              noLabel ? null : labelCol, idCol);
          CheckedPaths.requireExists(input, "--input");
        }
        default -> throw new IllegalStateException("unhandled format " + format);
      }
      if (partitions < 1) {
        throw new IllegalArgumentException("--partitions must be >= 1, got " + partitions);
      }
      OutputDir.checkWritable(new Configuration(), out, overwrite);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    SparkSession spark = sparkOptions.session("sparkquant-convert");
    long rows = switch (format) {
      case idx -> ConvertJob.idx(spark, files, out, overwrite,
          classNames == null ? FashionMnist.CLASS_NAMES : classNames, partitions);
      case images -> ConvertJob.images(spark, input, out, overwrite, images);
      case csv -> ConvertJob.csv(spark, input, out, overwrite, csv);
      case parquet -> ConvertJob.parquet(spark, input, out, overwrite, columns, shape, classNames);
    };
    spec.commandLine().getOut().printf("Converted %d rows from %s to %s%n", rows, input, out);
    return 0;
  }

  /** Options of one format given with another are refused, not ignored. */
  private void checkApplies() {
    var parsed = spec.commandLine().getParseResult();
    List<String> allowed = switch (format) {
      case idx -> List.of("--split", "--partitions", "--class-names");
      case images -> List.of("--size", "--channels", "--partitions");
      case csv -> List.of("--csv-header", "--csv-delimiter", "--shape", "--class-names", "--features-col",
          "--label-col", "--no-label", "--id-col");
      case parquet -> List.of("--shape", "--class-names", "--features-col", "--label-col", "--no-label", "--id-col");
    };
    for (String option : List.of("--split", "--partitions", "--class-names", "--size", "--channels", "--csv-header",
        "--csv-delimiter", "--shape", "--features-col", "--label-col", "--no-label", "--id-col")) {
      if (parsed.hasMatchedOption(option) && !allowed.contains(option)) {
        throw new IllegalArgumentException(option + " does not apply to --from " + format + "; options for "
            + format + ": " + String.join(", ", allowed));
      }
    }
    if (noLabel && parsed.hasMatchedOption("--label-col")) {
      throw new IllegalArgumentException("give --label-col or --no-label, not both");
    }
  }

  private CsvOptions csvOptions() {
    CsvOptions.Builder b = CsvOptions.builder().header(csvHeader).delimiter(csvDelimiter);
    if (noLabel) {
      b.unlabelled();
    } else if (labelCol.matches("\\d+")) {
      b.labelColumn(Integer.parseInt(labelCol));
    } else {
      b.labelColumn(labelCol);
    }
    if (idCol != null) {
      b.idColumn(idCol);
    }
    if (featuresCol != null) {
      if (featuresCol.endsWith("*")) {
        b.featurePrefix(featuresCol.substring(0, featuresCol.length() - 1));
      } else {
        b.featureColumns(Arrays.asList(featuresCol.split("\\s*,\\s*")));
      }
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
