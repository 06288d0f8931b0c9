package io.sparkquant.jobs.eval;

import io.sparkquant.data.Batch;
import io.sparkquant.data.Batches;
import io.sparkquant.data.ColumnTypes;
import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.Layout;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.spark.ExecutorCache;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;

/**
 * Scores a tensor dataset with one or several models on the executors: the model bytes travel in broadcasts,
 * each executor JVM deserializes them once ({@link ExecutorCache}), and {@code mapPartitions} turns rows into
 * predictions without collecting anything to the driver. With several models every batch is scored by every
 * model in the same pass, so all models see exactly the same rows.
 */
public final class Scoring {

  /** Columns of the predictions DataFrame of a single model. */
  public static final StructType PREDICTION_SCHEMA = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("label", DataTypes.IntegerType, false)
      .add("prediction", DataTypes.IntegerType, false)
      .add("probability", DataTypes.createArrayType(DataTypes.FloatType, false), false);

  private Scoring() {}

  /** A model to score: {@code key} names its columns when several models are scored (letters, digits, '_'). */
  public record ModelInput(String key, String name, byte[] bytes) {
    public ModelInput {
      if (!key.matches("[A-Za-z0-9_]+")) {
        throw new IllegalArgumentException("model key '" + key + "' must match [A-Za-z0-9_]+ (it names columns)");
      }
    }
  }

  /** A scored model: where its columns are, and the broadcast behind it (destroy after the last action). */
  public record ScoredModel(String key, String name, long sizeBytes, String sha256, ModelFormat format,
      String predictionColumn, String probabilityColumn, Broadcast<byte[]> broadcast) {}

  /** The predictions and the models behind them. */
  public record Scored(Dataset<Row> predictions, List<ScoredModel> models) {

    /** The first (reference) model's broadcast. */
    public Broadcast<byte[]> model() {
      return models.get(0).broadcast();
    }

    public String modelSha256() {
      return models.get(0).sha256();
    }

    public ModelFormat format() {
      return models.get(0).format();
    }

    /** Destroys every model broadcast. */
    public void destroy() {
      for (ScoredModel m : models) {
        m.broadcast().destroy();
      }
    }
  }

  /**
   * Lazily scores {@code rows} (as {@code TensorDatasets.load} returns them: features, label, id) with one model,
   * .tflite models on the Java interpreter. Columns: {@link #PREDICTION_SCHEMA}. The caller persists the result
   * if it uses it more than once and destroys the broadcast ({@link Scored#destroy()}) after the last action.
   */
  public static Scored predictions(SparkSession spark, byte[] modelBytes, String modelName, Dataset<Row> rows,
      DatasetInfo info, int batchSize) {
    return predictions(spark, List.of(new ModelInput("model", modelName, modelBytes)), rows, info, batchSize,
        TfliteEngine.JAVA);
  }

  /**
   * Lazily scores {@code rows} with every model in one pass. One model gives {@link #PREDICTION_SCHEMA}; several
   * give {@code id, label} then {@code prediction_<key>, probability_<key>} per model, in the given order. Rows
   * without a {@code label} column (unlabelled data) give the same columns without {@code label}.
   */
  public static Scored predictions(SparkSession spark, List<ModelInput> models, Dataset<Row> rows,
      DatasetInfo info, int batchSize, TfliteEngine engine) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    if (models.isEmpty()) {
      throw new IllegalArgumentException("at least one model is required");
    }
    boolean labelled = List.of(rows.columns()).contains(TensorDatasets.LABEL);
    StructType schema = new StructType().add("id", DataTypes.LongType, false);
    if (labelled) {
      schema = schema.add("label", DataTypes.IntegerType, false);
    }
    List<ScoredModel> scored = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    for (ModelInput m : models) {
      if (keys.contains(m.key())) {
        throw new IllegalArgumentException("model key '" + m.key() + "' is given twice; keys name columns");
      }
      keys.add(m.key());
      String prediction = models.size() == 1 ? "prediction" : "prediction_" + m.key();
      String probability = models.size() == 1 ? "probability" : "probability_" + m.key();
      schema = schema.add(prediction, DataTypes.IntegerType, false)
          .add(probability, DataTypes.createArrayType(DataTypes.FloatType, false), false);
      scored.add(broadcast(spark, m, prediction, probability));
    }
    List<BroadcastModel> broadcasts = broadcastModels(scored, engine);
    int n = models.size();
    int fixed = labelled ? 2 : 1;
    // Spark's internal rows: their features are copied straight into a batch, without boxing every value.
    StructType rowSchema = rows.schema();
    FlatMapFunction<Iterator<InternalRow>, Row> score = it -> scorePartition(it, broadcasts, info,
        layout -> Batches.internalBatchIterator(it, rowSchema, info, batchSize, layout),
        (batch, i, probabilities) -> {
          Object[] values = new Object[fixed + 2 * n];
          values[0] = batch.ids()[i];
          if (labelled) {
            values[1] = batch.labels()[i];
          }
          for (int k = 0; k < n; k++) {
            float[] p = probabilities[k][i];
            values[fixed + 2 * k] = argMax(p);
            values[fixed + 1 + 2 * k] = p;
          }
          return RowFactory.create(values);
        });
    JavaRDD<Row> predictions = rows.queryExecution().toRdd().toJavaRDD().mapPartitions(score);
    return new Scored(spark.createDataFrame(predictions, schema), List.copyOf(scored));
  }

  /**
   * Lazily appends one model's {@code predictionCol} (double: the class index of the highest probability) and
   * {@code probabilityCol} (a Spark ML Vector) to every row of {@code rows}, keeping all its columns: the Spark
   * ML face of the same executor-side scoring. {@code featuresCol} may be array&lt;float&gt;, array&lt;double&gt;
   * or a Vector; {@code info} gives the row shape (its class names are not used). Destroy the broadcast after the
   * last action, or leave it to Spark's cleaner when the DataFrame is handed to a user.
   */
  public static Scored appendPredictions(Dataset<Row> rows, String featuresCol, ModelInput model, DatasetInfo info,
      int batchSize, TfliteEngine engine, String predictionCol, String probabilityCol) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    StructType in = rows.schema();
    DataType featuresType = in.apply(featuresCol).dataType();
    // Array<float> rows are read as they are; other feature types go through a normalized copy of the column.
    String readCol = featuresType.equals(DataTypes.createArrayType(DataTypes.FloatType, false))
        || featuresType.equals(DataTypes.createArrayType(DataTypes.FloatType, true))
        ? featuresCol : "__sparkquant_features";
    Dataset<Row> input = readCol.equals(featuresCol) ? rows
        : rows.withColumn(readCol, ColumnTypes.featuresAsFloatArray(featuresCol, featuresType));
    int keep = in.length();
    StructType schema = in.add(predictionCol, DataTypes.DoubleType, false)
        .add(probabilityCol, new VectorUDT(), false);
    ScoredModel scored = broadcast(rows.sparkSession(), model, predictionCol, probabilityCol);
    List<BroadcastModel> broadcasts = broadcastModels(List.of(scored), engine);
    MapPartitionsFunction<Row, Row> score = it -> {
      // Batches read exactly a batch's rows per next(): keep them to copy their values into the output rows.
      ArrayDeque<Row> pending = new ArrayDeque<>();
      Iterator<Row> kept = new Iterator<>() {
        @Override
        public boolean hasNext() {
          return it.hasNext();
        }

        @Override
        public Row next() {
          Row r = it.next();
          pending.addLast(r);
          return r;
        }
      };
      return scorePartition(it, broadcasts, info,
          layout -> Batches.featureBatchIterator(kept, readCol, info, batchSize, layout),
          (batch, i, probabilities) -> {
            Row source = pending.removeFirst();
            Object[] values = new Object[keep + 2];
            for (int c = 0; c < keep; c++) {
              values[c] = source.get(c);
            }
            float[] p = probabilities[0][i];
            double[] vector = new double[p.length];
            for (int c = 0; c < p.length; c++) {
              vector[c] = p[c];
            }
            values[keep] = (double) argMax(p);
            values[keep + 1] = Vectors.dense(vector);
            return RowFactory.create(values);
          });
    };
    return new Scored(input.mapPartitions(score, Encoders.row(schema)), List.of(scored));
  }

  private static ScoredModel broadcast(SparkSession spark, ModelInput m, String prediction, String probability) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    ModelFormat format = ModelFormat.detect(m.bytes(), m.name());
    return new ScoredModel(m.key(), m.name(), m.bytes().length, ExecutorCache.sha256(m.bytes()), format, prediction,
        probability, jsc.broadcast(m.bytes()));
  }

  private static List<BroadcastModel> broadcastModels(List<ScoredModel> scored, TfliteEngine engine) {
    List<BroadcastModel> broadcasts = new ArrayList<>();
    for (ScoredModel m : scored) {
      broadcasts.add(new BroadcastModel(m.sha256(), m.format(), m.broadcast(), m.name(), engine));
    }
    return broadcasts;
  }

  /** What an executor needs to get a predictor for one model. */
  private record BroadcastModel(String sha256, ModelFormat format, Broadcast<byte[]> bytes, String name,
      TfliteEngine engine) implements Serializable {

    ExecutorCache.Lease<Predictor> lease() {
      return ExecutorCache.lease(cacheKey(sha256, format, engine), () -> format.load(bytes.value(), name, engine),
          Predictor::copy);
    }
  }

  /** The executor cache key of a model's predictor. */
  static String cacheKey(String sha256, ModelFormat format, TfliteEngine engine) {
    // A .tflite model parsed for one engine is another predictor than for the other engine.
    return format == ModelFormat.TFLITE ? sha256 + "/" + engine.cliName() : sha256;
  }

  /** The output row of row {@code i} of a batch, given every model's probabilities for the batch. */
  private interface RowWriter {
    Row row(Batch batch, int i, float[][][] probabilities);
  }

  /**
   * Streams the partition batch by batch, every model scoring every batch; the leased predictors go back when the
   * task completes. {@code reader} cuts the rows into batches in a layout, {@code writer} makes the output rows.
   */
  private static Iterator<Row> scorePartition(Iterator<?> rows, List<BroadcastModel> broadcasts,
      DatasetInfo info, Function<Layout, Iterator<Batch>> reader, RowWriter writer) {
    if (!rows.hasNext()) {
      return Collections.emptyIterator();
    }
    int n = broadcasts.size();
    Predictor[] predictors = new Predictor[n];
    for (int k = 0; k < n; k++) {
      ExecutorCache.Lease<Predictor> lease = broadcasts.get(k).lease();
      TaskContext.get().addTaskCompletionListener((TaskCompletionListener) context -> lease.close());
      predictors[k] = lease.value();
    }
    // One model reads batches in its own layout; several read HWC rows once and convert per model.
    Layout batchLayout = n == 1 ? predictors[0].layout()
        : info.shape().length == 3 ? Layout.NHWC : Layout.FLAT;
    Iterator<Batch> batches = reader.apply(batchLayout);
    return new Iterator<>() {
      private Batch batch;
      private float[][][] probabilities;
      private int next;

      @Override
      public boolean hasNext() {
        return batch != null && next < batch.size() || batches.hasNext();
      }

      @Override
      public Row next() {
        if (batch == null || next == batch.size()) {
          batch = batches.next();
          probabilities = new float[n][][];
          for (int k = 0; k < n; k++) {
            Batch in = Batches.inLayout(batch, batchLayout, predictors[k].layout(), info);
            probabilities[k] = predictors[k].predict(in.values(), in.shape());
          }
          next = 0;
        }
        return writer.row(batch, next++, probabilities);
      }
    };
  }

  public static int argMax(float[] p) {
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    return best;
  }
}
