package io.sparkquant.jobs.eval;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.eval.ClassificationMetrics;
import io.sparkquant.jobs.eval.EvaluationReport;
import io.sparkquant.jobs.eval.ModelComparison;
import io.sparkquant.jobs.eval.Scoring;
import io.sparkquant.jobs.eval.TfliteEngine;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.output.OutputDir;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores a labelled Parquet tensor dataset with one or several models in one pass ({@link Scoring}) and writes,
 * atomically into {@code out}: {@code predictions.parquet} (id, label, then prediction and probability per
 * model), {@code metrics.json}, {@code report.html} and {@code manifest.json}.
 *
 * <p>metrics.json holds the first (reference) model's {@link ClassificationMetrics} at the top level (as for a
 * single model) plus {@code reference} (its key) and {@code models}: per model its key, file name, format,
 * runtime, size in bytes, SHA-256, prediction columns, metrics and agreement with the reference
 * ({@link ModelComparison}), and {@code sparkMlEvaluator}: the reference's accuracy, weighted precision and recall
 * and F1 as Spark ML's MulticlassClassificationEvaluator computes them (equal to the MulticlassMetrics figures).
 */
public final class EvaluateJob {

  private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);

  public static final String METRICS_FILE = "metrics.json";
  public static final String PREDICTIONS_DIR = "predictions.parquet";
  public static final String REPORT_FILE = "report.html";

  private EvaluateJob() {}

  /**
   * @param models model files (DL4J zips or .tflite), the first being the reference
   * @param limit score only the first {@code limit} rows of {@code data} (0 = all), for quick runs
   * @param runtime what runs .tflite models
   */
  public record Options(List<String> models, String data, String out, boolean overwrite, int batchSize, long limit,
      TfliteEngine runtime) {
    public Options {
      if (models == null || models.isEmpty()) {
        throw new IllegalArgumentException("at least one model is required");
      }
      models = List.copyOf(models);
      if (limit < 0) {
        throw new IllegalArgumentException("limit must be >= 0 (0 = all rows), got " + limit);
      }
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
      }
      runtime = runtime == null ? TfliteEngine.JAVA : runtime;
    }

    /** One model, .tflite on the Java interpreter. */
    public Options(String model, String data, String out, boolean overwrite, int batchSize, long limit) {
      this(List.of(model), data, out, overwrite, batchSize, limit, TfliteEngine.JAVA);
    }
  }

  /**
   * @param metrics the reference (first) model's metrics
   * @param models every model's report, the reference first
   * @param evaluatorFigures the reference's headline figures by Spark ML's MulticlassClassificationEvaluator
   */
  public record Result(ClassificationMetrics metrics, String outDir, String metricsPath,
      String predictionsPath, double inferenceRowsPerSecond, List<ModelComparison.ModelReport> models,
      String reportPath, ClassificationMetrics.EvaluatorFigures evaluatorFigures) {}

  public static Result run(SparkSession spark, Options options) {
    long start = System.nanoTime();
    try (OutputDir out = OutputDir.create(spark.sparkContext().hadoopConfiguration(), options.out(),
        options.overwrite())) {
      List<Scoring.ModelInput> inputs = new ArrayList<>();
      List<String> files = new ArrayList<>();
      List<String> keys = modelKeys(options.models());
      for (int i = 0; i < options.models().size(); i++) {
        String path = options.models().get(i);
        inputs.add(new Scoring.ModelInput(keys.get(i), path,
            HadoopFiles.readAllBytes(spark.sparkContext().hadoopConfiguration(), path)));
        files.add(new Path(path).getName());
      }
      TensorDataset data = TensorDatasets.load(spark, options.data());
      DatasetInfo info = data.info();
      Dataset<Row> rows = data.rows();
      if (options.limit() > 0) {
        rows = TensorDatasets.firstRows(rows, options.limit());
      }
      Scoring.Scored scored = Scoring.predictions(spark, inputs, rows, info, options.batchSize(),
          options.runtime());
      Dataset<Row> predictions = scored.predictions().persist(StorageLevel.MEMORY_AND_DISK());
      try {
        long scoreStart = System.nanoTime();
        spark.sparkContext().setJobDescription("evaluate: score " + inputs.size() + " model(s)");
        long count = predictions.count();
        long scoreMillis = (System.nanoTime() - scoreStart) / 1_000_000;
        double rowsPerSecond = count / Math.max(scoreMillis / 1000.0, 1e-3);
        LOG.info("Scored {} rows with {} model(s) in {} ms ({} rows/s)", count, inputs.size(), scoreMillis,
            Math.round(rowsPerSecond));
        spark.sparkContext().setJobDescription("evaluate: write predictions");
        predictions.write().parquet(out.path(PREDICTIONS_DIR));
        spark.sparkContext().setJobDescription("evaluate: metrics");
        List<ModelComparison.ModelReport> reports = ModelComparison.compare(predictions, scored, files,
            info.classNames(), options.runtime().cliName());
        ClassificationMetrics reference = reports.get(0).metrics();
        ClassificationMetrics.EvaluatorFigures figures = ClassificationMetrics.EvaluatorFigures.of(
            predictions.select(col(reports.get(0).predictionColumn()).as("prediction"), col("label")));
        ObjectNode metricsJson = OutputDir.json().valueToTree(reference);
        metricsJson.put("reference", reports.get(0).key());
        metricsJson.set("sparkMlEvaluator", OutputDir.json().valueToTree(figures));
        metricsJson.set("models", OutputDir.json().valueToTree(reports));
        out.writeJson(METRICS_FILE, metricsJson);
        out.writeBytes(REPORT_FILE, EvaluationReport.html(reports, info.classNames(), options.data(), count)
            .getBytes(StandardCharsets.UTF_8));
        Manifest manifest = new Manifest("evaluate", options).spark(spark);
        for (String m : options.models()) {
          manifest.input("model", m);
        }
        manifest.input("data", options.data(), count)
            .put("modelSha256", scored.modelSha256())
            .put("modelFormat", scored.format())
            .put("accuracy", reference.accuracy())
            .put("inferenceRowsPerSecond", rowsPerSecond)
            .duration("score", scoreMillis)
            .duration("total", (System.nanoTime() - start) / 1_000_000)
            .writeTo(out);
        out.commit();
        return new Result(reference, out.finalPath(), out.finalPath(METRICS_FILE),
            out.finalPath(PREDICTIONS_DIR), rowsPerSecond, reports, out.finalPath(REPORT_FILE), figures);
      } finally {
        spark.sparkContext().setJobDescription(null);
        predictions.unpersist();
        scored.destroy();
      }
    }
  }

  /**
   * Column keys from file names: the name without .zip/.tflite, other characters than letters, digits and '_'
   * replaced by '_', and a suffix _2, _3, ... where names repeat.
   */
  static List<String> modelKeys(List<String> paths) {
    List<String> keys = new ArrayList<>();
    for (String p : paths) {
      String base = new Path(p).getName().replaceFirst("\\.(zip|tflite)$", "").replaceAll("[^A-Za-z0-9_]", "_");
      if (base.isEmpty()) {
        base = "model";
      }
      String key = base;
      for (int i = 2; keys.contains(key); i++) {
        key = base + "_" + i;
      }
      keys.add(key);
    }
    return keys;
  }
}
