package io.sparkquant.jobs;

import io.sparkquant.data.CsvConverter;
import io.sparkquant.data.CsvOptions;
import io.sparkquant.data.IdxConverter;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** Converts source files into a Parquet tensor dataset, atomically (the dataset appears complete or not at all). */
public final class ConvertJob {

  private ConvertJob() {}

  /** Converts one IDX images/labels pair; returns the number of rows written. */
  public static long idx(SparkSession spark, IdxFiles files, String out, boolean overwrite,
      List<String> classNames, int partitions) {
    try (OutputDir dir = OutputDir.create(spark.sparkContext().hadoopConfiguration(), out, overwrite)) {
      // the converter writes atomically itself; converting into our temporary root adds --overwrite
      long rows = IdxConverter.convert(spark, files.images(), files.labels(), dir.root(), classNames, partitions);
      dir.commit();
      return rows;
    }
  }

  /** Converts a CSV file or directory; returns the number of rows written. */
  public static long csv(SparkSession spark, String input, String out, boolean overwrite, CsvOptions options) {
    try (OutputDir dir = OutputDir.create(spark.sparkContext().hadoopConfiguration(), out, overwrite)) {
      long rows = CsvConverter.convert(spark, input, dir.root(), options);
      dir.commit();
      return rows;
    }
  }
}
