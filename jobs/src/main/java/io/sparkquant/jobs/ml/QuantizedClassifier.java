package io.sparkquant.jobs.ml;

import io.sparkquant.data.ColumnTypes;
import io.sparkquant.data.DatasetInfo;
import io.sparkquant.jobs.eval.ModelFormat;
import io.sparkquant.jobs.eval.Scoring;
import io.sparkquant.jobs.eval.TfliteEngine;
import io.sparkquant.jobs.output.HadoopFiles;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A classification model as a Spark ML {@link Transformer}: a .tflite model (run by SparkQuant's Java interpreter
 * or the TFLite 2.6.2 runtime) or a DL4J zip (float) adds {@code prediction} (double, the most probable class) and
 * {@code probability} (a Vector) to every row, keeping the other columns. Features (array&lt;float&gt;,
 * array&lt;double&gt; or Vector) are in the model's input order (HWC for images). Scoring is the evaluate job's
 * ({@link Scoring#appendPredictions}): the model travels in a broadcast and each executor JVM parses it once.
 *
 * <p>Saved with {@link #write()} (also inside a Pipeline) as Spark ML metadata plus the model bytes, so a saved
 * pipeline does not depend on the model file staying where it was.
 */
public final class QuantizedClassifier extends Transformer implements MLWritable {

  private static final String DATA_FILE = "model.bin";

  private final String uid;
  private final byte[] modelBytes;
  private final Param<String> featuresCol;
  private final Param<String> predictionCol;
  private final Param<String> probabilityCol;
  private final Param<String> runtime;
  private final IntParam batchSize;
  private final IntArrayParam inputShape;

  /** A model from its bytes (.tflite or DL4J zip, recognized by content). */
  public QuantizedClassifier(byte[] modelBytes) {
    this(Identifiable$.MODULE$.randomUID("quantizedClassifier"), modelBytes);
  }

  private QuantizedClassifier(String uid, byte[] modelBytes) {
    this.uid = uid;
    ModelFormat.detect(modelBytes, "given to QuantizedClassifier");
    this.modelBytes = modelBytes.clone();
    // Params are created after the uid: a Param records its parent's uid.
    featuresCol = new Param<>(this, "featuresCol", "features column: array<float>, array<double> or Vector");
    predictionCol = new Param<>(this, "predictionCol", "output column of the predicted class index (double)");
    probabilityCol = new Param<>(this, "probabilityCol", "output column of the class probabilities (Vector)");
    runtime = new Param<>(this, "runtime", "what runs a .tflite model: java (SparkQuant's interpreter) or tflite");
    batchSize = new IntParam(this, "batchSize", "rows per model call (> 0)");
    inputShape = new IntArrayParam(this, "inputShape", "row shape (HWC or [F]); default: the model's input");
    setDefault(featuresCol, "features");
    setDefault(predictionCol, "prediction");
    setDefault(probabilityCol, "probability");
    setDefault(runtime, TfliteEngine.JAVA.cliName());
    setDefault(batchSize, 64);
  }

  /** A model from a file on any Hadoop file system (the active SparkSession's configuration). */
  public static QuantizedClassifier fromFile(String path) {
    return new QuantizedClassifier(HadoopFiles.readAllBytes(
        SparkSession.active().sparkContext().hadoopConfiguration(), path));
  }

  public Param<String> featuresCol() {
    return featuresCol;
  }

  public Param<String> predictionCol() {
    return predictionCol;
  }

  public Param<String> probabilityCol() {
    return probabilityCol;
  }

  public Param<String> runtime() {
    return runtime;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public IntArrayParam inputShape() {
    return inputShape;
  }

  public QuantizedClassifier setFeaturesCol(String name) {
    set(featuresCol, name);
    return this;
  }

  public QuantizedClassifier setPredictionCol(String name) {
    set(predictionCol, name);
    return this;
  }

  public QuantizedClassifier setProbabilityCol(String name) {
    set(probabilityCol, name);
    return this;
  }

  /** {@code java} or {@code tflite}. */
  public QuantizedClassifier setRuntime(String name) {
    set(runtime, TfliteEngine.fromCliName(name).cliName());
    return this;
  }

  public QuantizedClassifier setBatchSize(int rows) {
    if (rows < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + rows);
    }
    set(batchSize, rows);
    return this;
  }

  public QuantizedClassifier setInputShape(int[] shape) {
    set(inputShape, shape.clone());
    return this;
  }

  /** A copy of the model bytes. */
  public byte[] modelBytes() {
    return modelBytes.clone();
  }

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    String features = getOrDefault(featuresCol);
    return Scoring.appendPredictions(dataset.toDF(), features,
        new Scoring.ModelInput("model", uid, modelBytes), rowInfo(),
        (Integer) getOrDefault(batchSize), TfliteEngine.fromCliName(getOrDefault(runtime)),
        getOrDefault(predictionCol), getOrDefault(probabilityCol)).predictions();
  }

  /** The row shape: the inputShape param if set, else the model's. */
  private DatasetInfo rowInfo() {
    if (isDefined(inputShape)) {
      // Scoring reads no labels, so no class names are needed; DatasetInfo wants one.
      return new DatasetInfo(getOrDefault(inputShape), List.of("class 0"));
    }
    return ModelFormat.detect(modelBytes, uid).rowInfo(modelBytes, uid);
  }

  @Override
  public StructType transformSchema(StructType schema) {
    String features = getOrDefault(featuresCol);
    List<String> names = Arrays.asList(schema.fieldNames());
    if (!names.contains(features)) {
      throw new IllegalArgumentException("no features column '" + features + "'; found " + names);
    }
    DataType type = schema.apply(features).dataType();
    if (!ColumnTypes.isFeatureType(type)) {
      throw new IllegalArgumentException("features column '" + features + "' has type " + type.simpleString()
          + "; accepted types: " + ColumnTypes.FEATURES_ACCEPTED);
    }
    for (String out : List.of(getOrDefault(predictionCol), getOrDefault(probabilityCol))) {
      if (names.contains(out)) {
        throw new IllegalArgumentException("output column '" + out + "' already exists; set another name");
      }
    }
    return schema.add(getOrDefault(predictionCol), DataTypes.DoubleType, false)
        .add(getOrDefault(probabilityCol), new VectorUDT(), false);
  }

  @Override
  public QuantizedClassifier copy(ParamMap extra) {
    return copyValues(new QuantizedClassifier(uid, modelBytes), extra);
  }

  @Override
  public MLWriter write() {
    return StagePersistence.writer(this, DATA_FILE, () -> modelBytes);
  }

  public static MLReader<QuantizedClassifier> read() {
    return StagePersistence.reader(QuantizedClassifier.class, DATA_FILE, QuantizedClassifier::new);
  }

  public static QuantizedClassifier load(String path) {
    return read().load(path);
  }
}
