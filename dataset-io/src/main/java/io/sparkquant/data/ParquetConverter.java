package io.sparkquant.data;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converts any Parquet dataset (written by Spark ML, pandas, another tool) into the tensor format: the user names
 * the features column (array&lt;float&gt;, array&lt;double&gt; or Spark ML Vector), the label and id columns if any,
 * and gives the shape, which the data cannot tell. Rows are read and checked by {@link TensorDatasets#loadColumns}
 * (a row of another length than the shape's product is refused by its length, naming file and row) and written by
 * {@link TensorDatasets#write}, so the result carries the shape, class names and provenance in every footer.
 */
public final class ParquetConverter {

  private static final Logger LOG = LoggerFactory.getLogger(ParquetConverter.class);

  private ParquetConverter() {}

  /**
   * @param shape the feature shape (HWC for images), e.g. {@code [28, 28, 1]} or {@code [784]}
   * @param classNames one per label value; null: "0".."max label" for labelled data (one extra pass over the label
   *     column), {@link DatasetInfo#UNKNOWN_CLASSES} for unlabelled data
   * @return the number of rows written
   */
  public static long convert(SparkSession spark, String input, String outDir, TensorDatasets.Columns columns,
      int[] shape, List<String> classNames, boolean overwrite) {
    long start = System.nanoTime();
    List<String> classes = classNames != null ? classNames
        : columns.label() == null ? DatasetInfo.UNKNOWN_CLASSES : inferClassNames(spark, input, columns.label());
    DatasetInfo info = new DatasetInfo(shape, classes);
    TensorDataset data = TensorDatasets.loadColumns(spark, input, info, columns);
    Map<String, String> provenance = new TreeMap<>();
    provenance.put("converter", ParquetConverter.class.getName());
    provenance.put("parquet", input);
    provenance.put("featuresColumn", columns.features());
    provenance.put("label", columns.label() != null ? "column " + columns.label() : "none (unlabelled)");
    provenance.put("id", columns.id() != null ? "column " + columns.id()
        : "row position in the input (files sorted by name)");
    provenance.put("classNames", classNames != null ? "given"
        : columns.label() == null ? "none given (unlabelled)" : "0..max label");
    long written = TensorDatasets.write(data.rows(), info, outDir, provenance, overwrite);
    LOG.info("Converted {} Parquet rows from {} to {} ({}) in {} ms", written, input, outDir, info,
        (System.nanoTime() - start) / 1_000_000);
    return written;
  }

  private static List<String> inferClassNames(SparkSession spark, String input, String label) {
    org.apache.spark.sql.Dataset<Row> df = spark.read().parquet(input);
    if (!List.of(df.columns()).contains(label)) {
      throw new InvalidDatasetException(input, label, "Missing column '" + label + "' in " + input
          + ": expected the label column; found columns " + List.of(df.columns()));
    }
    Row max = df.agg(org.apache.spark.sql.functions.max(
        col("`" + label + "`").cast(DataTypes.LongType))).first();
    if (max.isNullAt(0) || max.getLong(0) < 0 || max.getLong(0) >= Integer.MAX_VALUE) {
      throw new InvalidDatasetException(input, label, "Dataset " + input + " has no usable class index in column '"
          + label + "' (max " + (max.isNullAt(0) ? "null" : max.getLong(0)) + "); labels must be class indices 0, 1,"
          + " ...; or give the class names");
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i <= max.getLong(0); i++) {
      names.add(Integer.toString(i));
    }
    return names;
  }
}
