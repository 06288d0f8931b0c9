package io.sparkquant.jobs.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.calib.CalibrateJob;
import io.sparkquant.jobs.eval.QuantizedModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Estimator's table is the calibrate job's table, byte for byte; it survives a Pipeline save and load. */
class CalibrationEstimatorTest {

  @TempDir Path tmp;

  @Test
  void fitGivesTheCalibrateJobsTableByteForByte() throws Exception {
    SparkSession spark = SharedSpark.get();
    String model = QuantizedModels.get().dl4j.toString();
    String table = tmp.resolve("table.json").toString();
    // percentile: both passes (min/max, then histograms over fixed edges) run.
    CalibrateJob.run(spark, new CalibrateJob.Options(model, TestDatasets.train(), table, "percentile", 99.9, 400, 0,
        11, 0, 64, 2048, false));
    byte[] expected = Files.readAllBytes(Path.of(table));

    Dataset<Row> rows = TensorDatasets.load(spark, TestDatasets.train()).rows();
    CalibrationEstimator estimator = new CalibrationEstimator().setModelPath(model).setInputShape(new int[] {28, 28, 1})
        .setMethod("percentile").setPercentile(99.9).setRows(400).setSeed(11).setHistogramBins(2048);
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {estimator});
    PipelineModel pm = pipeline.fit(rows);
    CalibrationTableModel fitted = (CalibrationTableModel) pm.stages()[0];
    assertArrayEquals(expected, fitted.table().toJson().getBytes(StandardCharsets.UTF_8));
    assertEquals(estimator.uid(), fitted.parent().uid());
    assertSame(rows.schema(), fitted.transform(rows).schema(), "calibration passes rows through");

    // Saved and loaded, unfitted (the estimator's params) and fitted (the table).
    pipeline.write().save(tmp.resolve("pipeline").toString());
    CalibrationEstimator reloadedEstimator = (CalibrationEstimator) Pipeline.load(tmp.resolve("pipeline").toString())
        .getStages()[0];
    assertEquals(400L, (long) (Long) reloadedEstimator.getOrDefault(reloadedEstimator.rows()));
    assertEquals(99.9, (double) (Double) reloadedEstimator.getOrDefault(reloadedEstimator.percentile()), 0.0);
    assertArrayEquals(new int[] {28, 28, 1}, reloadedEstimator.getOrDefault(reloadedEstimator.inputShape()));
    pm.write().save(tmp.resolve("model").toString());
    CalibrationTableModel reloaded = (CalibrationTableModel) PipelineModel.load(tmp.resolve("model").toString())
        .stages()[0];
    assertArrayEquals(expected, reloaded.table().toJson().getBytes(StandardCharsets.UTF_8));
  }
}
