package io.sparkquant.jobs.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spark ML's MulticlassClassificationEvaluator gives exactly the MulticlassMetrics figures evaluate reports. */
class EvaluatorFiguresTest {

  @TempDir Path tmp;

  private static void assertEqualFigures(ClassificationMetrics m, ClassificationMetrics.EvaluatorFigures f) {
    assertEquals(m.accuracy(), f.accuracy(), 0.0, "accuracy");
    assertEquals(m.weightedPrecision(), f.weightedPrecision(), 0.0, "weighted precision");
    assertEquals(m.weightedRecall(), f.weightedRecall(), 0.0, "weighted recall");
    assertEquals(m.weightedF1(), f.f1(), 0.0, "weighted F1");
  }

  @Test
  void evaluateRecordsTheEvaluatorsFiguresAndTheyEqualMulticlassMetrics() throws Exception {
    SparkSession spark = SharedSpark.get();
    QuantizedModels models = QuantizedModels.get();
    EvaluateJob.Result r = EvaluateJob.run(spark, new EvaluateJob.Options(List.of(models.int8BadRanges.toString(),
        models.int8.toString()), TestDatasets.test(), tmp.resolve("eval").toString(), false, 64, 400,
        TfliteEngine.JAVA));
    assertEqualFigures(r.metrics(), r.evaluatorFigures());
    JsonNode json = new ObjectMapper().readTree(tmp.resolve("eval").resolve(EvaluateJob.METRICS_FILE).toFile());
    assertEquals(json.get("accuracy").asDouble(), json.at("/sparkMlEvaluator/accuracy").asDouble(), 0.0);
    assertEquals(json.get("weightedF1").asDouble(), json.at("/sparkMlEvaluator/f1").asDouble(), 0.0);
    // The reference (first model) is the one with bad ranges: its figures are not the good model's.
    assertTrue(r.models().get(1).metrics().accuracy() != r.evaluatorFigures().accuracy()
        || r.models().get(1).metrics().weightedF1() != r.evaluatorFigures().f1());
  }

  @Test
  void equalWhenAClassIsNeverPredictedOrNeverALabel() {
    SparkSession spark = SharedSpark.get();
    int[][] labelPrediction = {{0, 0}, {1, 2}, {2, 2}, {2, 2}, {1, 0}, {3, 1}, {0, 0}};
    List<Row> rows = new ArrayList<>();
    for (int[] lp : labelPrediction) {
      rows.add(RowFactory.create(lp[0], lp[1]));
    }
    Dataset<Row> predictions = spark.createDataFrame(rows, new StructType()
        .add("label", DataTypes.IntegerType).add("prediction", DataTypes.IntegerType));
    ClassificationMetrics m = ClassificationMetrics.compute(predictions, List.of("a", "b", "c", "d"));
    ClassificationMetrics.EvaluatorFigures f = ClassificationMetrics.EvaluatorFigures.of(predictions);
    assertEquals(4.0 / 7, m.accuracy(), 1e-12);
    assertEqualFigures(m, f);
  }
}
