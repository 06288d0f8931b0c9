package io.sparkquant.jobs;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.eval.ClassificationMetrics;
import io.sparkquant.jobs.eval.Scoring;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores a labelled Parquet tensor dataset with a model ({@link Scoring}) and writes, atomically into
 * {@code out}: {@code predictions.parquet} (id, label, prediction, probability), {@code metrics.json}
 * ({@link ClassificationMetrics}) and {@code manifest.json}.
 */
public final class EvaluateJob {

  private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);

  public static final String METRICS_FILE = "metrics.json";
  public static final String PREDICTIONS_DIR = "predictions.parquet";

  private EvaluateJob() {}

  /** @param limit score only the first {@code limit} rows of {@code data} (0 = all), for quick runs */
  public record Options(String model, String data, String out, boolean overwrite, int batchSize, long limit) {
    public Options {
      if (limit < 0) {
        throw new IllegalArgumentException("limit must be >= 0 (0 = all rows), got " + limit);
      }
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
      }
    }
  }

  public record Result(ClassificationMetrics metrics, String outDir, String metricsPath,
      String predictionsPath, double inferenceRowsPerSecond) {}

  public static Result run(SparkSession spark, Options options) {
    long start = System.nanoTime();
    try (OutputDir out = OutputDir.create(spark.sparkContext().hadoopConfiguration(), options.out(),
        options.overwrite())) {
      byte[] modelBytes = readAll(spark, options.model());
      TensorDataset data = TensorDatasets.load(spark, options.data());
      DatasetInfo info = data.info();
      Dataset<Row> rows = data.rows();
      if (options.limit() > 0) {
        rows = rows.limit((int) Math.min(options.limit(), Integer.MAX_VALUE));
      }
      Scoring.Scored scored = Scoring.predictions(spark, modelBytes, options.model(), rows, info,
          options.batchSize());
      Dataset<Row> predictions = scored.predictions().persist(StorageLevel.MEMORY_AND_DISK());
      try {
        long scoreStart = System.nanoTime();
        long count = predictions.count();
        long scoreMillis = (System.nanoTime() - scoreStart) / 1_000_000;
        double rowsPerSecond = count / Math.max(scoreMillis / 1000.0, 1e-3);
        LOG.info("Scored {} rows in {} ms ({} rows/s)", count, scoreMillis, Math.round(rowsPerSecond));
        predictions.write().parquet(out.path(PREDICTIONS_DIR));
        ClassificationMetrics metrics = ClassificationMetrics.compute(predictions, info.classNames());
        out.writeJson(METRICS_FILE, metrics);
        new Manifest("evaluate", options)
            .spark(spark)
            .input("model", options.model())
            .input("data", options.data(), count)
            .put("modelSha256", scored.modelSha256())
            .put("modelFormat", scored.format())
            .put("accuracy", metrics.accuracy())
            .put("inferenceRowsPerSecond", rowsPerSecond)
            .duration("score", scoreMillis)
            .duration("total", (System.nanoTime() - start) / 1_000_000)
            .writeTo(out);
        out.commit();
        return new Result(metrics, out.finalPath(), out.finalPath(METRICS_FILE),
            out.finalPath(PREDICTIONS_DIR), rowsPerSecond);
      } finally {
        predictions.unpersist();
        scored.model().destroy();
      }
    }
  }

  /** Reads a whole (model) file from any Hadoop file system on the driver. */
  static byte[] readAll(SparkSession spark, String path) {
    Path p = new Path(path);
    try (InputStream in = p.getFileSystem(spark.sparkContext().hadoopConfiguration()).open(p)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read model file " + path, e);
    }
  }
}
