package io.sparkquant.jobs.eval;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.mllib.evaluation.MulticlassMetrics;
import org.apache.spark.mllib.linalg.Matrix;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import scala.Tuple2;

/**
 * Classification metrics of a predictions DataFrame ({@link Scoring#PREDICTION_SCHEMA}), computed by Spark
 * ML's {@link MulticlassMetrics}. The confusion matrix has one row per true class and one column per
 * predicted class, over all dataset classes (MulticlassMetrics alone lists only the labels it saw).
 */
public record ClassificationMetrics(
    long rows, double accuracy, double weightedPrecision, double weightedRecall, double weightedF1,
    List<ClassMetrics> perClass, long[][] confusionMatrix) {

  /** Metrics of one class; precision (recall) is 0 for a class never predicted (never a label). */
  public record ClassMetrics(int index, String name, long support, double precision, double recall,
      double f1) {}

  /**
   * The headline figures as Spark ML's {@link MulticlassClassificationEvaluator} computes them from the
   * {@code prediction} and {@code label} columns (metric names accuracy, weightedPrecision, weightedRecall, f1): the
   * figures a Spark ML user gets from a CrossValidator or their own evaluation, recorded beside
   * {@link #compute}'s so that the two can be compared.
   */
  public record EvaluatorFigures(double accuracy, double weightedPrecision, double weightedRecall, double f1) {

    public static EvaluatorFigures of(Dataset<Row> predictions) {
      // The evaluator takes a double prediction (any numeric label).
      Dataset<Row> pairs = predictions.select(functions.col("prediction").cast("double").as("prediction"),
          functions.col("label"));
      MulticlassClassificationEvaluator evaluator = new MulticlassClassificationEvaluator()
          .setPredictionCol("prediction").setLabelCol("label");
      return new EvaluatorFigures(
          evaluator.setMetricName("accuracy").evaluate(pairs),
          evaluator.setMetricName("weightedPrecision").evaluate(pairs),
          evaluator.setMetricName("weightedRecall").evaluate(pairs),
          evaluator.setMetricName("f1").evaluate(pairs));
    }
  }

  public static ClassificationMetrics compute(Dataset<Row> predictions, List<String> classNames) {
    Dataset<Row> pairs = predictions.select(
        functions.col("prediction").cast("double"), functions.col("label").cast("double"));
    MulticlassMetrics metrics = new MulticlassMetrics(
        pairs.javaRDD().map(r -> new Tuple2<Object, Object>(r.getDouble(0), r.getDouble(1))).rdd());
    int numClasses = classNames.size();
    long[][] confusion = new long[numClasses][numClasses];
    double[] seen = metrics.labels(); // sorted labels present as label or prediction
    Matrix m = metrics.confusionMatrix();
    for (int i = 0; i < seen.length; i++) {
      for (int j = 0; j < seen.length; j++) {
        confusion[checkClass(seen[i], numClasses)][checkClass(seen[j], numClasses)] = (long) m.apply(i, j);
      }
    }
    List<ClassMetrics> perClass = new ArrayList<>();
    long rows = 0;
    for (int c = 0; c < numClasses; c++) {
      long support = 0;
      for (long v : confusion[c]) {
        support += v;
      }
      long predicted = 0;
      for (long[] row : confusion) {
        predicted += row[c];
      }
      rows += support;
      // MulticlassMetrics throws for a class never seen as label (recall) or at all (precision)
      double precision = predicted > 0 ? metrics.precision(c) : 0.0;
      double recall = support > 0 ? metrics.recall(c) : 0.0;
      double f1 = predicted > 0 && support > 0 ? metrics.fMeasure(c) : 0.0;
      perClass.add(new ClassMetrics(c, classNames.get(c), support, precision, recall, f1));
    }
    return new ClassificationMetrics(rows, metrics.accuracy(), metrics.weightedPrecision(),
        metrics.weightedRecall(), metrics.weightedFMeasure(), perClass, confusion);
  }

  private static int checkClass(double label, int numClasses) {
    int c = (int) label;
    if (c != label || c < 0 || c >= numClasses) {
      throw new IllegalArgumentException("Label or prediction " + label + " is not a class index in [0, "
          + numClasses + ")");
    }
    return c;
  }
}
