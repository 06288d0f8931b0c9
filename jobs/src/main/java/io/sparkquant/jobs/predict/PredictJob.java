package io.sparkquant.jobs.predict;

import static org.apache.spark.sql.functions.col;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.InvalidDatasetException;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.eval.ModelFormat;
import io.sparkquant.jobs.eval.Scoring;
import io.sparkquant.jobs.eval.TfliteEngine;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.output.OutputDir;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.Seq;

/**
 * Scores a dataset that need not have labels: the evaluate job's scoring ({@link Scoring}) on the executors, the
 * predictions written, atomically into {@code out}, as {@code predictions.parquet} (id, prediction, probability,
 * and with top-k > 0 {@code top_k}: the k most probable class indices, most probable first) plus
 * {@code manifest.json}. A label column in the data is ignored. The row shape comes from the dataset's footers, or
 * from the model for Parquet files that carry no tensor metadata.
 */
public final class PredictJob {

  private static final Logger LOG = LoggerFactory.getLogger(PredictJob.class);

  public static final String PREDICTIONS_DIR = "predictions.parquet";
  public static final String TOP_K = "top_k";

  private PredictJob() {}

  /**
   * @param topK also write the k most probable classes (0 = no top-k column)
   * @param runtime what runs .tflite models
   */
  public record Options(String model, String data, String out, int topK, int batchSize, TfliteEngine runtime,
      boolean overwrite) {
    public Options {
      if (topK < 0) {
        throw new IllegalArgumentException("top-k must be >= 0 (0 = none), got " + topK);
      }
      if (batchSize < 1) {
        throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
      }
      runtime = runtime == null ? TfliteEngine.JAVA : runtime;
    }
  }

  public record Result(String outDir, String predictionsPath, long rows, String manifestPath) {}

  public static Result run(SparkSession spark, Options o) {
    long start = System.nanoTime();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    try (OutputDir out = OutputDir.create(conf, o.out(), o.overwrite())) {
      byte[] model = HadoopFiles.readAllBytes(conf, o.model());
      String name = new Path(o.model()).getName();
      DatasetInfo fromModel = TensorDatasets.hasInfo(o.data(), conf) ? null
          : ModelFormat.detect(model, name).rowInfo(model, name);
      TensorDataset data = TensorDatasets.loadFeatures(spark, o.data(), fromModel);
      if (fromModel == null) {
        requireModelShape(data.info(), model, name, o);
      }
      Dataset<Row> rows = data.labelled() ? data.rows().drop(TensorDatasets.LABEL) : data.rows();
      Scoring.Scored scored = Scoring.predictions(spark, List.of(new Scoring.ModelInput("model", name, model)), rows,
          data.info(), o.batchSize(), o.runtime());
      try {
        Dataset<Row> predictions = scored.predictions();
        if (o.topK() > 0) {
          predictions = predictions.withColumn(TOP_K, topK(o.topK()).apply(col("probability")));
        }
        long scoreStart = System.nanoTime();
        predictions.write().parquet(out.path(PREDICTIONS_DIR));
        long scoreMillis = (System.nanoTime() - scoreStart) / 1_000_000;
        long count = spark.read().parquet(out.path(PREDICTIONS_DIR)).count(); // from the Parquet footers
        LOG.info("predict: {} rows scored and written in {} ms", count, scoreMillis);
        new Manifest("predict", o).spark(spark)
            .input("model", o.model())
            .input("data", o.data(), count)
            .put("modelSha256", scored.modelSha256())
            .put("modelFormat", scored.format())
            .put("shapeFrom", fromModel == null ? "dataset" : "model")
            .duration("score", scoreMillis)
            .duration("total", (System.nanoTime() - start) / 1_000_000)
            .writeTo(out);
        out.commit();
        return new Result(out.finalPath(), out.finalPath(PREDICTIONS_DIR), count, out.finalPath(Manifest.FILE_NAME));
      } finally {
        scored.destroy();
      }
    }
  }

  /** Refuses, before any row is read, a dataset whose rows are not the model's input. */
  private static void requireModelShape(DatasetInfo data, byte[] model, String name, Options o) {
    int[] modelShape = ModelFormat.detect(model, name).inputShape(model, name).orElse(null);
    if (modelShape != null && !ModelFormat.fits(data.shape(), modelShape)) {
      DatasetInfo taken = new DatasetInfo(modelShape, data.classNames());
      throw new InvalidDatasetException(o.data(), TensorDatasets.FEATURES, "Dataset " + o.data() + " has rows of"
          + " shape " + data.shapeString() + " (" + data.featureLength() + " values) but model " + o.model()
          + " takes " + taken.shapeString() + " (" + taken.featureLength() + " values); convert the data to the"
          + " model's input shape (for images: convert --from images --size HxW --channels C)");
    }
  }

  /** The indices of the k highest probabilities, highest first (ties: the lower index first, as argMax). */
  static UserDefinedFunction topK(int k) {
    return functions.udf((UDF1<Seq<Float>, List<Integer>>) probabilities -> {
      List<Float> p = scala.collection.JavaConverters.seqAsJavaList(probabilities);
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < p.size(); i++) {
        order.add(i);
      }
      order.sort((a, b) -> {
        int byValue = Float.compare(p.get(b), p.get(a));
        return byValue != 0 ? byValue : Integer.compare(a, b);
      });
      return order.subList(0, Math.min(k, order.size()));
    }, DataTypes.createArrayType(DataTypes.IntegerType, false));
  }
}
