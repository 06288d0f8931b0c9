package io.sparkquant.jobs.ml;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.eval.QuantizedModels;
import io.sparkquant.jobs.eval.Scoring;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.functions;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The int8 .tflite as a Spark ML Transformer: inside a Pipeline, saved and reloaded, it predicts exactly what it
 * predicted before and what the evaluate job's scoring predicts; Vector, array&lt;double&gt; and array&lt;float&gt;
 * features give the same predictions.
 */
class QuantizedClassifierTest {

  private static final int ROWS = 300;

  @TempDir static Path tmp;
  static SparkSession spark;
  static QuantizedModels models;
  static TensorDataset test;
  static Dataset<Row> rows;

  @BeforeAll
  static void setUp() {
    spark = SharedSpark.get();
    models = QuantizedModels.get();
    test = TensorDatasets.load(spark, TestDatasets.test());
    rows = test.rows().filter(col("id").lt(ROWS));
  }

  /** id -> (prediction, probabilities) of a transformed DataFrame. */
  private static Map<Long, Object[]> byId(Dataset<Row> scored, String prediction, String probability) {
    Map<Long, Object[]> out = new TreeMap<>();
    for (Row r : scored.select(col("id"), col(prediction), col(probability)).collectAsList()) {
      out.put(r.getLong(0), new Object[] {r.getDouble(1), ((Vector) r.get(2)).toArray()});
    }
    return out;
  }

  private static void assertSame(Map<Long, Object[]> expected, Map<Long, Object[]> actual) {
    assertEquals(expected.keySet(), actual.keySet());
    for (Long id : expected.keySet()) {
      assertEquals((double) expected.get(id)[0], (double) actual.get(id)[0], 0.0, "prediction of row " + id);
      assertArrayEquals((double[]) expected.get(id)[1], (double[]) actual.get(id)[1], 0.0, "probability of " + id);
    }
  }

  @Test
  void pipelineSavedAndReloadedPredictsTheSame() throws Exception {
    // A stage before the classifier renames the features column, so the classifier's featuresCol param matters.
    SQLTransformer rename = new SQLTransformer().setStatement("SELECT id, label, features AS pixels FROM __THIS__");
    QuantizedClassifier classifier = QuantizedClassifier.fromFile(models.int8.toString()).setFeaturesCol("pixels")
        .setBatchSize(37);
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {rename, classifier});
    PipelineModel fitted = pipeline.fit(rows);
    Map<Long, Object[]> before = byId(fitted.transform(rows), "prediction", "probability");
    assertEquals(ROWS, before.size());

    String dir = tmp.resolve("pipeline").toString();
    fitted.write().save(dir);
    pipeline.write().save(tmp.resolve("unfitted").toString());
    PipelineModel reloaded = PipelineModel.load(dir);
    QuantizedClassifier stage = (QuantizedClassifier) reloaded.stages()[1];
    assertEquals(classifier.uid(), stage.uid());
    assertEquals("pixels", stage.getOrDefault(stage.featuresCol()));
    assertEquals(37, (int) (Integer) stage.getOrDefault(stage.batchSize()));
    assertArrayEquals(Files.readAllBytes(models.int8), stage.modelBytes());
    assertSame(before, byId(reloaded.transform(rows), "prediction", "probability"));
    // The unfitted pipeline reloads too, and fits to the same predictions.
    PipelineModel refitted = Pipeline.load(tmp.resolve("unfitted").toString()).fit(rows);
    assertSame(before, byId(refitted.transform(rows), "prediction", "probability"));

    // The same as the evaluate job's scoring (int prediction, float probabilities) on the same rows.
    Scoring.Scored evaluated = Scoring.predictions(spark, Files.readAllBytes(models.int8), "int8.tflite", rows,
        test.info(), 64);
    try {
      List<Row> eval = evaluated.predictions().collectAsList();
      assertEquals(ROWS, eval.size());
      for (Row r : eval) {
        Object[] p = before.get(r.getLong(0));
        assertEquals(r.getInt(2), (double) p[0], 0.0);
        List<Float> probs = r.getList(3);
        double[] asDouble = probs.stream().mapToDouble(Float::doubleValue).toArray();
        assertArrayEquals(asDouble, (double[]) p[1], 0.0);
      }
    } finally {
      evaluated.destroy();
    }
    // Not a constant model: several classes are predicted and most rows are right.
    long right = fitted.transform(rows).filter(col("prediction").equalTo(col("label").cast("double"))).count();
    assertTrue(right > ROWS * 0.6, "accuracy " + right + "/" + ROWS);
  }

  @Test
  void vectorDoubleAndFloatFeaturesPredictTheSame() {
    QuantizedClassifier classifier = QuantizedClassifier.fromFile(models.int8.toString());
    Dataset<Row> all = rows
        .withColumn("doubles", col("features").cast(DataTypes.createArrayType(DataTypes.DoubleType)))
        .withColumn("vector", functions.array_to_vector(col("features")));
    Map<Long, Object[]> floats = byId(classifier.transform(all), "prediction", "probability");
    Map<Long, Object[]> doubles = byId(classifier.copy(new org.apache.spark.ml.param.ParamMap())
        .setFeaturesCol("doubles").transform(all), "prediction", "probability");
    Map<Long, Object[]> vectors = byId(classifier.setFeaturesCol("vector").setPredictionCol("p")
        .setProbabilityCol("q").transform(all), "p", "q");
    assertEquals(ROWS, floats.size());
    assertSame(floats, doubles);
    assertSame(floats, vectors);
    // Every input column is kept, in order, before the two new ones.
    List<String> columns = List.of(classifier.transform(all).columns());
    assertEquals(List.of("features", "label", "id", "doubles", "vector", "p", "q"), columns);
  }

  @Test
  void badColumnsAreNamed() {
    QuantizedClassifier classifier = QuantizedClassifier.fromFile(models.int8.toString());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> classifier.setFeaturesCol("pixels").transform(rows));
    assertTrue(missing.getMessage().contains("'pixels'"), missing.getMessage());
    IllegalArgumentException wrongType = assertThrows(IllegalArgumentException.class,
        () -> classifier.setFeaturesCol("label").transform(rows));
    assertTrue(wrongType.getMessage().contains("array<float>, array<double> or Spark ML Vector"),
        wrongType.getMessage());
  }
}
