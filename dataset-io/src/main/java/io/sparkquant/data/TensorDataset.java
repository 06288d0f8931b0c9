package io.sparkquant.data;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;

import org.apache.spark.SparkContext;
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

  /**
   * Reads every row's features, label and id once (one Spark job), so that the row checks run now instead of when a
   * later action first reads the rows: a validation set is refused before training starts, not after its first
   * epoch.
   *
   * @return the number of rows
   * @throws RuntimeException Spark's job failure with an {@link InvalidDatasetException} naming the first bad row
   *     found in its cause chain
   */
  public long checkRows() {
    SparkContext sc = rows.sparkSession().sparkContext();
    String previous = sc.getLocalProperty("spark.job.description");
    sc.setJobDescription("check the rows of " + source);
    try {
      // Sums force every column through its check; count(features) alone could be answered from the footers.
      Row r = rows.agg(count(lit(1)), sum(size(col(TensorDatasets.FEATURES))),
              labelled() ? sum(col(TensorDatasets.LABEL)) : lit(0L), sum(col(TensorDatasets.ID)))
          .first();
      return r.getLong(0);
    } finally {
      sc.setJobDescription(previous);
    }
  }
}
