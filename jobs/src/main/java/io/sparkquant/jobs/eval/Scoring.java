package io.sparkquant.jobs.eval;

import io.sparkquant.data.Batch;
import io.sparkquant.data.Batches;
import io.sparkquant.data.DatasetInfo;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Collections;
import java.util.Iterator;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;

/**
 * Scores a tensor dataset with a model on the executors: the model bytes travel in a broadcast, each
 * executor JVM deserializes them once ({@link PredictorCache}), and {@code mapPartitions} turns rows into
 * predictions without collecting anything to the driver.
 */
public final class Scoring {

  /** Columns of the predictions DataFrame. */
  public static final StructType PREDICTION_SCHEMA = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("label", DataTypes.IntegerType, false)
      .add("prediction", DataTypes.IntegerType, false)
      .add("probability", DataTypes.createArrayType(DataTypes.FloatType, false), false);

  private Scoring() {}

  /**
   * Lazily scores {@code rows} (as {@code TensorDatasets.load} returns them: features, label, id). The caller persists the result if it uses it more than once, and destroys nothing: the broadcast is
   * returned inside the {@link Scored} so it can be destroyed after the last action.
   */
  public static Scored predictions(SparkSession spark, byte[] modelBytes, String modelName, Dataset<Row> rows,
      DatasetInfo info, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    ModelFormat format = ModelFormat.detect(modelBytes, modelName);
    String hash = sha256(modelBytes);
    Broadcast<byte[]> model = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(modelBytes);
    MapPartitionsFunction<Row, Row> score = it -> scorePartition(it, format, hash, model, modelName, info,
        batchSize);
    return new Scored(rows.mapPartitions(score, Encoders.row(PREDICTION_SCHEMA)), model, hash, format);
  }

  /** The predictions and the broadcast behind them. */
  public record Scored(Dataset<Row> predictions, Broadcast<byte[]> model, String modelSha256,
      ModelFormat format) {}

  /** Streams the partition batch by batch; the leased predictor goes back when the task completes. */
  private static Iterator<Row> scorePartition(Iterator<Row> rows, ModelFormat format, String hash,
      Broadcast<byte[]> model, String modelName, DatasetInfo info, int batchSize) {
    if (!rows.hasNext()) {
      return Collections.emptyIterator();
    }
    PredictorCache.Lease lease = PredictorCache.lease(hash, () -> format.load(model.value(), modelName));
    TaskContext.get().addTaskCompletionListener((TaskCompletionListener) context -> lease.close());
    Predictor predictor = lease.predictor();
    Iterator<Batch> batches = Batches.batchIterator(rows, info, batchSize, predictor.layout());
    return new Iterator<>() {
      private Batch batch;
      private float[][] probabilities;
      private int next;

      @Override
      public boolean hasNext() {
        return batch != null && next < batch.size() || batches.hasNext();
      }

      @Override
      public Row next() {
        if (batch == null || next == batch.size()) {
          batch = batches.next();
          probabilities = predictor.predict(batch.features());
          next = 0;
        }
        float[] p = probabilities[next];
        Row row = RowFactory.create(batch.ids()[next], batch.labels()[next], argMax(p), p);
        next++;
        return row;
      }
    };
  }

  private static int argMax(float[] p) {
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    return best;
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
