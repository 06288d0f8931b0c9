package io.sparkquant.jobs.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.output.ProjectVersion;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.jobs.train.TrainJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Train writes a model and manifest; evaluate's metrics.json agrees with counts made independently from
 * its predictions.parquet.
 */
class EvaluateJobTest {

  private static final double EXACT = 1e-12;
  private static final double PROBABILITY_SUM_TOLERANCE = 1e-4;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path tmp;
  static TrainJob.Result trained;
  static EvaluateJob.Result evaluated;

  @BeforeAll
  static void trainAndEvaluate() {
    SparkSession spark = SharedSpark.get();
    trained = TrainJob.run(spark, new TrainJob.Options(TestDatasets.train(), null, tmp.resolve("model").toString(),
        false, 1000, new TrainConfig(Preset.MLP, 1, 50, 2, 3, 0.002, 1.0, 4)), s -> { });
    evaluated = EvaluateJob.run(spark, new EvaluateJob.Options(trained.modelPath(), TestDatasets.test(),
        tmp.resolve("eval").toString(), false, 128, 0));
  }

  @Test
  void trainWritesModelAndManifest() throws Exception {
    Path model = tmp.resolve("model");
    assertTrue(Files.size(model.resolve(TrainJob.MODEL_FILE)) > 0);
    JsonNode manifest = JSON.readTree(model.resolve(Manifest.FILE_NAME).toFile());
    assertEquals("train", manifest.get("command").asText());
    assertEquals(ProjectVersion.get(), manifest.get("projectVersion").asText());
    assertEquals(3, manifest.at("/options/train/seed").asLong());
    assertEquals("MLP", manifest.at("/options/train/preset").asText());
    assertEquals(1000, manifest.at("/inputs/0/rows").asLong());
    assertEquals(1, manifest.get("epochs").size());
    assertTrue(manifest.at("/durationsMillis/train").asLong() > 0);
  }

  @Test
  void metricsAgreeWithIndependentCountsFromPredictions() throws Exception {
    Path eval = tmp.resolve("eval");
    JsonNode metrics = JSON.readTree(eval.resolve(EvaluateJob.METRICS_FILE).toFile());
    Dataset<Row> predictions = SharedSpark.get().read().parquet(eval.resolve(EvaluateJob.PREDICTIONS_DIR).toString());
    List<Row> rows = predictions.collectAsList();

    int numClasses = 10;
    long[][] confusion = new long[numClasses][numClasses];
    long correct = 0;
    for (Row r : rows) {
      int label = r.getInt(r.fieldIndex("label"));
      int prediction = r.getInt(r.fieldIndex("prediction"));
      List<Float> p = r.getList(r.fieldIndex("probability"));
      int argMax = 0;
      double sum = 0;
      for (int i = 0; i < p.size(); i++) {
        sum += p.get(i);
        argMax = p.get(i) > p.get(argMax) ? i : argMax;
      }
      assertEquals(argMax, prediction, "prediction is the most probable class");
      assertEquals(1.0, sum, PROBABILITY_SUM_TOLERANCE);
      confusion[label][prediction]++;
      correct += label == prediction ? 1 : 0;
    }
    assertEquals(2000, rows.size());
    assertEquals(2000, predictions.select("id").distinct().count(), "ids are unique");
    assertEquals(rows.size(), metrics.get("rows").asLong());
    assertEquals((double) correct / rows.size(), metrics.get("accuracy").asDouble(), EXACT);
    assertTrue(metrics.get("accuracy").asDouble() > 0.5, "an MLP trained on 1000 rows beats chance (0.1) widely");

    for (int c = 0; c < numClasses; c++) {
      long tp = confusion[c][c];
      long support = 0;
      long predicted = 0;
      for (int k = 0; k < numClasses; k++) {
        support += confusion[c][k];
        predicted += confusion[k][c];
        assertEquals(confusion[c][k], metrics.at("/confusionMatrix/" + c + "/" + k).asLong(),
            "confusion[" + c + "][" + k + "]");
      }
      JsonNode perClass = metrics.at("/perClass/" + c);
      double precision = predicted == 0 ? 0 : (double) tp / predicted;
      double recall = support == 0 ? 0 : (double) tp / support;
      double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
      assertEquals(support, perClass.get("support").asLong());
      assertEquals(precision, perClass.get("precision").asDouble(), EXACT, "precision of class " + c);
      assertEquals(recall, perClass.get("recall").asDouble(), EXACT, "recall of class " + c);
      assertEquals(f1, perClass.get("f1").asDouble(), EXACT, "f1 of class " + c);
    }

    JsonNode manifest = JSON.readTree(eval.resolve(Manifest.FILE_NAME).toFile());
    assertEquals("evaluate", manifest.get("command").asText());
    assertEquals(2000, manifest.at("/inputs/1/rows").asLong());
    assertEquals(64, manifest.get("modelSha256").asText().length());
  }
}
