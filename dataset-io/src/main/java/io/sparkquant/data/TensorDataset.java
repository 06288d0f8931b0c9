package io.sparkquant.data;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A loaded tensor dataset: {@code rows} has exactly the columns {@code features} array&lt;float&gt;,
 * {@code label} int (absent in unlabelled data, {@link TensorDatasets#loadFeatures}) and {@code id} long, and checks every row against {@code info} as Spark reads those columns
 * (a bad row fails the Spark action with an {@link InvalidDatasetException} in its cause chain). {@code source} is
 * the path given to {@link TensorDatasets#load}.
 */
public record TensorDataset(Dataset<Row> rows, DatasetInfo info, String source) {

  /** Whether the rows have a {@code label} column. */
  public boolean labelled() {
    return java.util.List.of(rows.columns()).contains(TensorDatasets.LABEL);
  }
}
