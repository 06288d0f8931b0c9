package io.sparkquant.jobs.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.Layout;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * .tflite scoring on Spark (real Parquet test rows of the bundled Fashion-MNIST subset, models exported by
 * TfliteExporter): the Java interpreter and the TFLite 2.6.2 runtime give identical probabilities on int8 models;
 * int8-I/O and float-I/O exports give identical probabilities; the float32 export agrees with DL4J.
 */
class TflitePredictorTest {

  /** Batch 64 over 600 rows: the last batch of a partition is smaller and resizes the TFLite runtime. */
  static final int BATCH = 64;
  static final int ROWS = 600;

  static QuantizedModels models;
  static TensorDataset test;

  @BeforeAll
  static void setUp() {
    models = QuantizedModels.get();
    test = TensorDatasets.load(SharedSpark.get(), TestDatasets.test());
  }

  /** id -> probabilities of one model scored on Spark. */
  static Map<Long, float[]> score(Path model, TfliteEngine engine) throws Exception {
    SparkSession spark = SharedSpark.get();
    Scoring.Scored scored = Scoring.predictions(spark,
        List.of(new Scoring.ModelInput("m", model.toString(), Files.readAllBytes(model))),
        test.rows().limit(ROWS).repartition(2),
        test.info(), BATCH, engine);
    try {
      Map<Long, float[]> byId = new HashMap<>();
      for (Row r : scored.predictions().collectAsList()) {
        List<Float> p = r.getList(3);
        float[] a = new float[p.size()];
        for (int i = 0; i < a.length; i++) {
          a[i] = p.get(i);
        }
        assertEquals(Scoring.argMax(a), r.getInt(2));
        byId.put(r.getLong(0), a);
      }
      return byId;
    } finally {
      scored.destroy();
    }
  }

  @Test
  void javaInterpreterAndTfliteRuntimeGiveIdenticalInt8Predictions() throws Exception {
    for (Path model : List.of(models.int8, models.int8Io)) {
      Map<Long, float[]> java = score(model, TfliteEngine.JAVA);
      Map<Long, float[]> tflite = score(model, TfliteEngine.TFLITE);
      assertEquals(ROWS, java.size());
      assertEquals(java.keySet(), tflite.keySet());
      for (Map.Entry<Long, float[]> e : java.entrySet()) {
        assertArrayEquals(e.getValue(), tflite.get(e.getKey()), model.getFileName() + " row id " + e.getKey());
      }
    }
  }

  @Test
  void int8InputQuantizationMatchesTheModelsOwnQuantizeOp() throws Exception {
    Map<Long, float[]> floatIo = score(models.int8, TfliteEngine.TFLITE);
    Map<Long, float[]> int8Io = score(models.int8Io, TfliteEngine.TFLITE);
    for (Map.Entry<Long, float[]> e : floatIo.entrySet()) {
      assertArrayEquals(e.getValue(), int8Io.get(e.getKey()), "row id " + e.getKey());
    }
  }

  @Test
  void float32ExportAgreesWithDl4j() throws Exception {
    Map<Long, float[]> dl4j = score(models.dl4j, TfliteEngine.JAVA);
    Map<Long, float[]> tflite = score(models.float32, TfliteEngine.JAVA);
    int same = 0;
    double maxDelta = 0;
    for (Map.Entry<Long, float[]> e : dl4j.entrySet()) {
      float[] a = e.getValue();
      float[] b = tflite.get(e.getKey());
      same += Scoring.argMax(a) == Scoring.argMax(b) ? 1 : 0;
      for (int c = 0; c < a.length; c++) {
        maxDelta = Math.max(maxDelta, Math.abs(a[c] - b[c]));
      }
    }
    assertTrue(same >= dl4j.size() - 2, "float32 export top-1 differs from DL4J on " + (dl4j.size() - same)
        + " rows");
    assertTrue(maxDelta < 1e-4, "float32 export probabilities differ from DL4J by " + maxDelta);
  }

  @Test
  void formatIsDetectedByContentAndLayoutFromTheInputTensor() throws Exception {
    byte[] bytes = Files.readAllBytes(models.int8);
    assertEquals(ModelFormat.TFLITE, ModelFormat.detect(bytes, "model.bin"));
    assertEquals(ModelFormat.DL4J, ModelFormat.detect(Files.readAllBytes(models.dl4j), "model.tflite"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelFormat.detect(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, "junk.tflite"));
    assertTrue(e.getMessage().contains("junk.tflite"), e.getMessage());
    Predictor p = ModelFormat.TFLITE.load(bytes, "int8", TfliteEngine.JAVA);
    assertEquals(Layout.NHWC, p.layout());
  }
}
