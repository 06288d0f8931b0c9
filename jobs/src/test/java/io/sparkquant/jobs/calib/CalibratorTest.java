package io.sparkquant.jobs.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.InvalidDatasetException;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.calib.TensorCalibration;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.MinMaxRanges;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.TestModels;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.nd4j.linalg.api.ndarray.INDArray;

class CalibratorTest {

  private static final long MODEL_SEED = 11L;
  private static final long DATA_SEED = 5L;
  /** The calibrator runs the float32 export on the interpreter, the in-process reference DL4J: float rounding. */
  private static final float BATCHING_TOLERANCE = 1e-5f;
  private static final long LISTENER_MILLIS = 60_000;

  private final SparkSession spark = SharedSpark.get();
  private final byte[] model = CalibrationFixtures.cnnModelBytes(MODEL_SEED);

  private Calibrator calibrator(RangeMethod method) {
    return new Calibrator().setModel(model).setInputShape(CalibrationFixtures.INPUT_SHAPE).setMethod(method)
        .setBatchSize(16).setSeed(99);
  }

  @Test
  void tableIsBitIdenticalForAnyPartitioningAndRowOrder() {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 240, DATA_SEED, -1).cache();
    Calibrator cal = calibrator(RangeMethod.entropy()).setSampleRows(150);
    String reference = cal.setPartitions(1).fit(rows.repartition(1)).toJson();
    for (int p : new int[] {3, 8}) {
      assertEquals(reference, cal.setPartitions(p).fit(rows.repartition(p)).toJson(), p + " partitions");
    }
    Dataset<Row> shuffled = rows.orderBy(functions.rand(123)).repartition(5);
    assertEquals(reference, cal.setPartitions(0).fit(shuffled).toJson(), "shuffled rows, input partitioning");
    // rows share interpreter runs in arrival order: a row's tensors must not depend on its run-mates
    assertEquals(reference, cal.setBatchSize(1).fit(shuffled).toJson(), "one row per interpreter run");
    assertEquals(reference, cal.setBatchSize(7).fit(rows.repartition(2)).toJson(), "7 rows per interpreter run");
    rows.unpersist();
  }

  @Test
  void minMaxMatchesTheInProcessObserverOnEveryTensor() throws Exception {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 64, DATA_SEED, -1);
    Calibrator.Run run = calibrator(RangeMethod.minMax()).setPartitions(2).fitRun(rows);
    assertEquals(64, run.rows());

    MultiLayerNetwork net = TestModels.cnnChain(MODEL_SEED);
    Graph graph = Dl4jImporter.importModel(net, CalibrationFixtures.INPUT_SHAPE);
    float[] nhwc = new float[64 * CalibrationFixtures.FEATURES];
    List<Row> local = rows.orderBy("id").collectAsList();
    for (int i = 0; i < local.size(); i++) {
      List<Float> f = local.get(i).getList(0);
      for (int k = 0; k < f.size(); k++) {
        nhwc[i * CalibrationFixtures.FEATURES + k] = f.get(k);
      }
    }
    Iterator<INDArray> one = List.of(Dl4jActivations.toDl4jInput(graph, nhwc, 64)).iterator();
    ActivationRanges expected = MinMaxRanges.collect(graph, net, one);
    assertEquals(expected.asMap().keySet(), run.table().tensors().keySet(), "every graph tensor is calibrated");
    for (TensorCalibration t : run.table().tensors().values()) {
      float[] r = expected.get(t.tensor()).orElseThrow();
      assertEquals(r[0], t.min(), BATCHING_TOLERANCE, t.tensor());
      assertEquals(r[1], t.max(), BATCHING_TOLERANCE, t.tensor());
      assertEquals(64L * graph.tensor(t.tensor()).itemSize(), t.count(), t.tensor());
    }
  }

  @Test
  void sampleByFractionIsDeterministic() {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 200, DATA_SEED, -1);
    Calibrator cal = calibrator(RangeMethod.percentile(99.9)).setSampleFraction(0.3);
    Calibrator.Run a = cal.setPartitions(2).fitRun(rows.repartition(4));
    Calibrator.Run b = cal.setPartitions(3).fitRun(rows.repartition(1));
    assertEquals(a.rows(), b.rows());
    assertTrue(a.rows() > 30 && a.rows() < 90, "about 30% of 200: " + a.rows());
    assertEquals(a.table().toJson(), b.table().toJson());
  }

  @Test
  void nanFeatureIsReportedWithItsRowId() {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 50, DATA_SEED, 7L * 20 + 3);
    InvalidDatasetException e = assertThrows(InvalidDatasetException.class,
        () -> calibrator(RangeMethod.minMax()).fit(rows));
    assertTrue(e.getMessage().contains("row id 143") && e.getMessage().contains("NaN at index 42"),
        e.getMessage());
  }

  @Test
  void nullFeatureValueAndWrongLengthAreReportedWithTheRowId() {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 30, DATA_SEED, -1);
    Dataset<Row> withNull = rows.withColumn("features", functions.when(functions.col("id").equalTo(10),
        functions.expr("transform(features, (x, i) -> IF(i = 7, CAST(NULL AS FLOAT), x))"))
        .otherwise(functions.col("features")));
    InvalidDatasetException e = assertThrows(InvalidDatasetException.class,
        () -> calibrator(RangeMethod.minMax()).fit(withNull));
    assertTrue(e.getMessage().contains("row id 10") && e.getMessage().contains("null at index 7"), e.getMessage());

    Dataset<Row> short1 = rows.withColumn("features", functions.when(functions.col("id").equalTo(17),
        functions.slice(functions.col("features"), 1, 299)).otherwise(functions.col("features")));
    e = assertThrows(InvalidDatasetException.class, () -> calibrator(RangeMethod.minMax()).fit(short1));
    assertTrue(e.getMessage().contains("row id 17") && e.getMessage().contains("299 values"), e.getMessage());
  }

  @Test
  void nullIdIsAnInputErrorOnEveryPath() {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 30, DATA_SEED, -1);
    Dataset<Row> nullId = rows.withColumn("id", functions.when(functions.col("id").equalTo(24),
        functions.lit(null).cast("long")).otherwise(functions.col("id")));
    List<Executable> paths = List.of(
        () -> calibrator(RangeMethod.minMax()).fit(nullId.repartition(2)), // in the pass
        // in the sample filter, which runs before the repartition
        () -> calibrator(RangeMethod.minMax()).setPartitions(3).setSampleFraction(0.5).fit(nullId.repartition(2)),
        () -> calibrator(RangeMethod.minMax()).setSampleFraction(0.5).sample(nullId).count()); // a sampled view
    for (int i = 0; i < paths.size(); i++) {
      Exception e = assertThrows(Exception.class, paths.get(i), "path " + i);
      InvalidDatasetException input = InvalidDatasetException.findIn(e).orElseThrow(() -> new AssertionError(e));
      assertTrue(input.getMessage().contains("'id'") && input.getMessage().contains("a non-null long"),
          input.getMessage());
    }
  }

  @Test
  void doubleFeaturesAndIntIdsGiveTheSameTableAndOtherTypesAreRejected() {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 40, DATA_SEED, -1);
    Calibrator cal = calibrator(RangeMethod.minMax());
    Dataset<Row> widened = rows.withColumn("features", functions.col("features").cast("array<double>"))
        .withColumn("id", functions.col("id").cast("int"));
    assertEquals(cal.fit(rows).toJson(), cal.fit(widened).toJson());

    Dataset<Row> strings = rows.withColumn("features", functions.col("features").cast("array<string>"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cal.fit(strings));
    assertTrue(e.getMessage().contains("'features' has type array<string>; accepted types: array<float>"),
        e.getMessage());
    Dataset<Row> doubleIds = rows.withColumn("id", functions.col("id").cast("double"));
    e = assertThrows(IllegalArgumentException.class, () -> cal.fit(doubleIds));
    assertTrue(e.getMessage().contains("'id' has type double; accepted types: long"), e.getMessage());
  }

  @Test
  void sampleHoldsExactlyTheRowsTheFitObserves() {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 120, DATA_SEED, -1).repartition(3).cache();
    Calibrator sampled = calibrator(RangeMethod.minMax()).setSampleRows(50);
    Calibrator.Run run = sampled.fitRun(rows);
    Dataset<Row> sample = sampled.sample(rows);
    assertEquals(run.rows(), sample.count());
    assertEquals(List.of(rows.columns()), List.of(sample.columns()), "all columns kept");
    // Fitting every row of the sample observes the same rows: the same table, bit for bit.
    assertEquals(run.table().toJson(), calibrator(RangeMethod.minMax()).fit(sample).toJson());
    assertNotEquals(run.table().toJson(), calibrator(RangeMethod.minMax()).setSeed(1).setSampleRows(50).fit(rows)
        .toJson(), "another seed, other rows");
    rows.unpersist();
  }

  @Test
  void passOneCountsTheRowsAndOnlyARowLimitRunsASamplingJob() throws TimeoutException {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 90, DATA_SEED, -1).repartition(3).cache();
    rows.count();
    List<Calibrator.Run> runs = new ArrayList<>();
    assertEquals(1, jobs(() -> runs.add(calibrator(RangeMethod.minMax()).fitRun(rows))), "all rows: pass 1 only");
    assertEquals(90, runs.get(0).rows());

    Calibrator fraction = calibrator(RangeMethod.entropy()).setSampleFraction(0.4);
    assertEquals(2, jobs(() -> runs.add(fraction.fitRun(rows))), "fraction: the two passes only");
    assertEquals(fraction.sample(rows).count(), runs.get(1).rows(), "the rows pass 1 counted are the sample");

    Calibrator limited = calibrator(RangeMethod.entropy()).setSampleRows(50);
    assertEquals(3, jobs(() -> runs.add(limited.fitRun(rows))), "row limit: choosing the rows, then two passes");
    assertEquals(50, runs.get(2).rows());
    rows.unpersist();
  }

  /** The Spark jobs {@code body} starts. */
  private int jobs(Runnable body) throws TimeoutException {
    AtomicInteger started = new AtomicInteger();
    SparkListener counter = new SparkListener() {
      @Override
      public void onJobStart(SparkListenerJobStart e) {
        started.incrementAndGet();
      }
    };
    spark.sparkContext().listenerBus().waitUntilEmpty(LISTENER_MILLIS);
    spark.sparkContext().addSparkListener(counter);
    try {
      body.run();
      spark.sparkContext().listenerBus().waitUntilEmpty(LISTENER_MILLIS);
    } finally {
      spark.sparkContext().removeSparkListener(counter);
    }
    return started.get();
  }

  @Test
  void aNewModelOrGraphReplacesTheOneKeptFromTheLastFit() {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 40, DATA_SEED, -1).cache();
    Calibrator cal = calibrator(RangeMethod.minMax());
    String first = cal.fit(rows).toJson();
    byte[] other = CalibrationFixtures.cnnModelBytes(MODEL_SEED + 1);
    String second = cal.setModel(other).fit(rows).toJson();
    assertNotEquals(first, second, "a fit after setModel observes the new model");
    assertEquals(calibrator(RangeMethod.minMax()).setModel(other).fit(rows).toJson(), second,
        "as a fresh calibrator does");
    Graph graph = Dl4jImporter.importModel(TestModels.cnnChain(MODEL_SEED), CalibrationFixtures.INPUT_SHAPE);
    assertEquals(first, cal.setGraph(graph).fit(rows).toJson(), "a fit after setGraph observes that graph");
    rows.unpersist();
  }

  @Test
  void emptyCalibrationSetIsAnError() {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 20, DATA_SEED, -1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> calibrator(RangeMethod.mse()).setSampleFraction(1e-12).fit(rows));
    assertTrue(e.getMessage().contains("empty calibration set"), e.getMessage());
  }

  @Test
  void rowsAndFractionAreExclusive() {
    Dataset<Row> rows = CalibrationFixtures.rows(spark, 5, DATA_SEED, -1);
    assertThrows(IllegalArgumentException.class,
        () -> calibrator(RangeMethod.minMax()).setSampleRows(3).setSampleFraction(0.5).fit(rows));
  }

}
