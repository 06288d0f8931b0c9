package io.sparkquant.jobs.predict;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.eval.EvaluateJob;
import io.sparkquant.jobs.eval.QuantizedModels;
import io.sparkquant.jobs.output.Manifest;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** predict scores rows without labels exactly as evaluate scores the same rows with labels. */
class PredictJobTest {

  private static final int ROWS = 300;
  private static final int TOP_K = 3;

  @TempDir Path tmp;

  @Test
  void predictOnUnlabelledRowsEqualsEvaluateOnTheSameRows() throws Exception {
    SparkSession spark = SharedSpark.get();
    QuantizedModels models = QuantizedModels.get();
    TensorDataset test = TensorDatasets.load(spark, TestDatasets.test());
    Dataset<Row> subset = test.rows().filter(col("id").lt(ROWS));
    String labelled = tmp.resolve("labelled").toString();
    TensorDatasets.write(subset, test.info(), labelled, Map.of());
    // The same rows without labels, written by plain Spark: no label column and no tensor metadata either (the
    // features field's metadata is dropped too), so the row shape comes from the model.
    String unlabelled = tmp.resolve("unlabelled").toString();
    // A DataFrame made anew from the rows: Spark keeps field metadata through a same-name alias.
    spark.createDataFrame(subset.select("features", "id").javaRDD(), new StructType()
        .add("features", DataTypes.createArrayType(DataTypes.FloatType)).add("id", DataTypes.LongType))
        .repartition(3).write().parquet(unlabelled);
    assertFalse(TensorDatasets.hasInfo(unlabelled, spark.sparkContext().hadoopConfiguration()));
    assertFalse(List.of(spark.read().parquet(unlabelled).columns()).contains("label"));

    String model = models.int8.toString();
    EvaluateJob.Result evaluated = EvaluateJob.run(spark, new EvaluateJob.Options(model, labelled,
        tmp.resolve("eval").toString(), false, 64, 0));
    PredictJob.Result predicted = PredictJob.run(spark, new PredictJob.Options(model, unlabelled,
        tmp.resolve("predict").toString(), TOP_K, 50, null, false));

    assertEquals(ROWS, predicted.rows());
    Dataset<Row> p = spark.read().parquet(predicted.predictionsPath());
    assertEquals(List.of("id", "prediction", "probability", PredictJob.TOP_K), List.of(p.columns()));
    Map<Long, Row> byId = new HashMap<>();
    for (Row r : spark.read().parquet(evaluated.predictionsPath()).collectAsList()) {
      byId.put(r.getLong(r.fieldIndex("id")), r);
    }
    assertEquals(ROWS, byId.size());
    for (Row r : p.collectAsList()) {
      Row e = byId.remove(r.getLong(0));
      assertEquals(e.getInt(e.fieldIndex("prediction")), r.getInt(1), "prediction of row " + r.getLong(0));
      assertEquals(e.getList(e.fieldIndex("probability")), r.getList(2), "probability of row " + r.getLong(0));
      List<Integer> top = r.getList(3);
      assertEquals(TOP_K, top.size());
      assertEquals(r.getInt(1), (int) top.get(0), "the top class is the prediction");
      List<Float> probability = r.getList(2);
      for (int i = 1; i < TOP_K; i++) {
        assertTrue(probability.get(top.get(i - 1)) >= probability.get(top.get(i)), "top-k is in order");
      }
    }
    assertTrue(byId.isEmpty(), "every evaluated row was predicted");

    assertTrue(predicted.manifestPath().endsWith("predict/" + Manifest.FILE_NAME), predicted.manifestPath());
    JsonNode manifest = new ObjectMapper().readTree(tmp.resolve("predict").resolve(Manifest.FILE_NAME).toFile());
    assertEquals("predict", manifest.get("command").asText());
    assertEquals("model", manifest.get("shapeFrom").asText());
    assertEquals(ROWS, manifest.at("/inputs/1/rows").asLong());
  }

  @Test
  void commandWritesPredictionsOfALabelledDatasetWithoutLabels() throws Exception {
    String out = tmp.resolve("cli").toString();
    int code = Main.commandLine().execute("predict", "--model", QuantizedModels.get().float32.toString(),
        "--data", TestDatasets.test(), "--out", out, "--batch-size", "500");
    assertEquals(0, code);
    Dataset<Row> p = SharedSpark.get().read().parquet(Path.of(out, PredictJob.PREDICTIONS_DIR).toString());
    assertEquals(List.of("id", "prediction", "probability"), List.of(p.columns()));
    assertEquals(2000, p.count());
    assertEquals("dataset", new ObjectMapper().readTree(Path.of(out, Manifest.FILE_NAME).toFile())
        .get("shapeFrom").asText());
  }

  @Test
  void aDatasetOfAnotherShapeThanTheModelsIsRefusedOnOneLine() throws Exception {
    SparkSession spark = SharedSpark.get();
    String small = tmp.resolve("small").toString();
    TensorDatasets.write(spark.range(3).selectExpr("array_repeat(CAST(0.5 AS FLOAT), 196) AS features", "id"),
        new io.sparkquant.data.DatasetInfo(new int[] {14, 14, 1}, io.sparkquant.data.DatasetInfo.UNKNOWN_CLASSES),
        small, Map.of());
    String out = tmp.resolve("refused").toString();
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cli = Main.commandLine();
    cli.setErr(new java.io.PrintWriter(err, true));
    String model = QuantizedModels.get().int8.toString();
    int code = cli.execute("predict", "--model", model, "--data", small, "--out", out);
    String line = err.toString().strip();
    assertEquals(io.sparkquant.jobs.cli.ErrorContract.BAD_INPUT, code, line);
    assertEquals(1, line.lines().count(), line);
    assertTrue(line.startsWith("sparkquant predict: ") && line.contains("shape 14,14,1 (196 values)")
        && line.contains("takes 28,28,1 (784 values)") && line.contains(model), line);
    assertFalse(java.nio.file.Files.exists(Path.of(out)));
  }
}
