package io.sparkquant.jobs.eval;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Per-model metrics of a side-by-side predictions DataFrame ({@link Scoring#predictions} with several models)
 * and each model's agreement with the first, the reference: on the same rows, the fraction with the same top-1
 * class, and the mean and max of |p_model[c] - p_reference[c]| over all rows and classes.
 */
public final class ModelComparison {

  private ModelComparison() {}

  /** Agreement of a model with the reference on the same rows (1, 0, 0 for the reference itself). */
  public record Agreement(double top1, double meanAbsProbDelta, double maxAbsProbDelta) {}

  /** One model's entry of metrics.json. */
  public record ModelReport(String key, String file, String format, String runtime, long sizeBytes,
      String sha256, String predictionColumn, String probabilityColumn, ClassificationMetrics metrics,
      Agreement agreementWithReference) {}

  /**
   * @param predictions persisted predictions (the caller caches them: this runs one Spark job per model for the
   *     metrics and one for all agreements)
   * @param files the models' file names, in {@code scored.models()} order
   * @param runtime the .tflite engine name, reported for .tflite models only
   */
  public static List<ModelReport> compare(Dataset<Row> predictions, Scoring.Scored scored, List<String> files,
      List<String> classNames, String runtime) {
    List<Scoring.ScoredModel> models = scored.models();
    Scoring.ScoredModel ref = models.get(0);
    // four aggregates per model after the reference, whose agreement with itself is known (and whose equality
    // with itself Spark would warn about as a trivially true predicate)
    List<Column> aggs = new ArrayList<>();
    for (Scoring.ScoredModel m : models.subList(1, models.size())) {
      Column deltas = functions.zip_with(functions.col(m.probabilityColumn()),
          functions.col(ref.probabilityColumn()), (a, b) -> functions.abs(a.cast("double").minus(b.cast("double"))));
      aggs.add(functions.avg(functions.when(functions.col(m.predictionColumn())
          .equalTo(functions.col(ref.predictionColumn())), 1.0).otherwise(0.0)));
      aggs.add(functions.sum(functions.aggregate(deltas, functions.lit(0.0), Column::plus)));
      aggs.add(functions.sum(functions.size(functions.col(ref.probabilityColumn()))));
      aggs.add(functions.max(functions.array_max(deltas)));
    }
    Row a = aggs.isEmpty() ? null
        : predictions.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).first();
    List<ModelReport> reports = new ArrayList<>();
    for (int k = 0; k < models.size(); k++) {
      Scoring.ScoredModel m = models.get(k);
      ClassificationMetrics metrics = ClassificationMetrics.compute(predictions.select(
          functions.col(m.predictionColumn()).as("prediction"), functions.col("label")), classNames);
      Agreement agreement = k == 0 ? new Agreement(1.0, 0.0, 0.0)
          : new Agreement(a.getDouble(4 * k - 4), a.getDouble(4 * k - 3) / a.getLong(4 * k - 2),
              a.getDouble(4 * k - 1));
      reports.add(new ModelReport(m.key(), files.get(k), m.format().name().toLowerCase(java.util.Locale.ROOT),
          m.format() == ModelFormat.TFLITE ? runtime : null, m.sizeBytes(), m.sha256(), m.predictionColumn(),
          m.probabilityColumn(), metrics, agreement));
    }
    return reports;
  }
}
