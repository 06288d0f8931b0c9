package io.sparkquant.jobs.eval;

import io.sparkquant.data.Batches;
import io.sparkquant.data.DatasetInfo;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;
import org.nd4j.linalg.dataset.DataSet;

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
   * Lazily scores {@code rows}. Rows without an {@code id} column get {@code monotonically_increasing_id()}.
   * The caller persists the result if it uses it more than once, and destroys nothing: the broadcast is
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
    Dataset<Row> input = Arrays.asList(rows.columns()).contains("id") ? rows
        : rows.withColumn("id", functions.monotonically_increasing_id());
    MapPartitionsFunction<Row, Row> score = it -> scorePartition(it, format, hash, model, modelName, info,
        batchSize);
    return new Scored(input.mapPartitions(score, Encoders.row(PREDICTION_SCHEMA)), model, hash, format);
  }

  /** The predictions and the broadcast behind them. */
  public record Scored(Dataset<Row> predictions, Broadcast<byte[]> model, String modelSha256,
      ModelFormat format) {}

  /** Streams the partition chunk by chunk; the leased predictor goes back when the task completes. */
  private static Iterator<Row> scorePartition(Iterator<Row> rows, ModelFormat format, String hash,
      Broadcast<byte[]> model, String modelName, DatasetInfo info, int batchSize) {
    if (!rows.hasNext()) {
      return Collections.emptyIterator();
    }
    PredictorCache.Lease lease = PredictorCache.lease(hash, () -> format.load(model.value(), modelName));
    TaskContext.get().addTaskCompletionListener((TaskCompletionListener) context -> lease.close());
    Predictor predictor = lease.predictor();
    return new Iterator<>() {
      private final List<Row> chunk = new ArrayList<>(batchSize);
      private float[][] probabilities;
      private int next;

      @Override
      public boolean hasNext() {
        return next < chunk.size() || rows.hasNext();
      }

      @Override
      public Row next() {
        if (next == chunk.size()) {
          chunk.clear();
          next = 0;
          while (rows.hasNext() && chunk.size() < batchSize) {
            chunk.add(rows.next());
          }
          if (chunk.isEmpty()) {
            throw new NoSuchElementException();
          }
          // one Batches call per chunk keeps ids and labels aligned with the rows of the batch
          DataSet batch = Batches.iterator(chunk.iterator(), info, batchSize, predictor.layout()).next();
          probabilities = predictor.predict(batch.getFeatures());
        }
        Row row = chunk.get(next);
        float[] p = probabilities[next];
        next++;
        return RowFactory.create(row.getLong(row.fieldIndex("id")), row.getInt(row.fieldIndex("label")),
            argMax(p), p);
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
