package io.sparkquant.jobs.convert;

import io.sparkquant.data.CsvConverter;
import io.sparkquant.data.CsvOptions;
import io.sparkquant.data.IdxConverter;
import io.sparkquant.data.ImageFolderConverter;
import io.sparkquant.data.ParquetConverter;
import io.sparkquant.data.TensorDatasets;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * Converts source files into a Parquet tensor dataset. The dataset appears complete or not at all: the converters
 * write through {@link io.sparkquant.data.TensorDatasets#write}, which commits atomically itself.
 */
public final class ConvertJob {

  private ConvertJob() {}

  /** Converts one IDX images/labels pair; returns the number of rows written. */
  public static long idx(SparkSession spark, IdxFiles files, String out, boolean overwrite,
      List<String> classNames, int partitions) {
    return IdxConverter.convert(spark, files.images(), files.labels(), out, classNames, partitions, overwrite);
  }

  /** Converts a CSV file or directory; returns the number of rows written. */
  public static long csv(SparkSession spark, String input, String out, boolean overwrite, CsvOptions options) {
    return CsvConverter.convert(spark, input, out, options, overwrite);
  }

  /** Converts a folder of images, one sub-folder per class; returns the number of rows written. */
  public static long images(SparkSession spark, String input, String out, boolean overwrite,
      ImageFolderConverter.Options options) {
    return ImageFolderConverter.convert(spark, input, out, options, overwrite);
  }

  /** Converts a Parquet dataset with the named columns; returns the number of rows written. */
  public static long parquet(SparkSession spark, String input, String out, boolean overwrite,
      TensorDatasets.Columns columns, int[] shape, List<String> classNames) {
    return ParquetConverter.convert(spark, input, out, columns, shape, classNames, overwrite);
  }
}
