package io.sparkquant.jobs.qat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.train.TrainJob;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.qat.QatNetwork;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteRuntime;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train} (cnn) -> {@code calibrate} -> {@code qat}, twice: the exported int8 model loads in both runtimes,
 * the fine-tuned simulation predicts what TFLite computes, and the same seed and partitioning give the same bytes.
 */
class QatJobTest {

  private static final int ROWS = 200;

  @TempDir Path tmp;

  @Test
  void fineTunedSimulationMatchesExportedInt8ModelAndRunsAreReproducible() throws Exception {
    Path trained = tmp.resolve("model");
    assertEquals(0, Main.execute("train", "--data", TestDatasets.train(), "--out", trained.toString(),
        "--preset", "cnn", "--epochs", "1", "--limit", "1000", "--partitions", "2"));
    Path zip = trained.resolve(TrainJob.MODEL_FILE);
    Path table = tmp.resolve("table.json");
    assertEquals(0, Main.execute("calibrate", "--model", zip.toString(), "--data", TestDatasets.train(),
        "--out", table.toString(), "--rows", "200"));

    Path first = tmp.resolve("qat1");
    Path second = tmp.resolve("qat2");
    for (Path out : List.of(first, second)) {
      assertEquals(0, Main.execute("qat", "--model", zip.toString(), "--data", TestDatasets.train(),
          "--calibration", table.toString(), "--epochs", "1", "--limit", "1000", "--partitions", "2",
          "--out", out.toString()));
    }
    byte[] tflite = Files.readAllBytes(first.resolve(QatJob.TFLITE_FILE));
    assertArrayEquals(tflite, Files.readAllBytes(second.resolve(QatJob.TFLITE_FILE)),
        "same seed and partitioning must give the same int8 model");
    assertTrue(Files.exists(first.resolve("model-int8.json")));
    JsonNode manifest = new ObjectMapper().readTree(first.resolve(Manifest.FILE_NAME).toFile());
    double int8Accuracy = manifest.get("int8Accuracy").asDouble();
    assertTrue(int8Accuracy > 0.3, "int8 accuracy on the fine-tuning rows " + int8Accuracy);

    float[] x = testFeatures();
    float[] deployed;
    try (TfliteRuntime rt = TfliteRuntime.create(tflite, 1)) {
      rt.resizeBatch(ROWS);
      deployed = (float[]) rt.run((Object) x)[0];
    }
    int classes = deployed.length / ROWS;
    float[] javaInterpreter = (float[]) new Interpreter(TfliteReader.read(tflite)).run((Object) x)[0];
    int javaAgree = 0;
    for (int r = 0; r < ROWS; r++) {
      javaAgree += argMax(javaInterpreter, r, classes) == argMax(deployed, r, classes) ? 1 : 0;
    }
    assertEquals(ROWS, javaAgree, "the Java interpreter and TFLite disagree on top-1");

    // The fine-tuned network as written, hooks on, softmax output quantized as deployed.
    Graph source = Dl4jImporter.importModel(Dl4jImporter.load(Files.readAllBytes(zip)), new int[] {28, 28, 1});
    ComputationGraph restored = ModelSerializer.restoreComputationGraph(
        new ByteArrayInputStream(Files.readAllBytes(first.resolve(QatJob.MODEL_FILE))), false);
    QatNetwork qat = QatNetwork.attach(source, restored);
    qat.setSoftmaxOutputQuantized(true);
    float[] simulated = restored.outputSingle(false, qat.toDl4jInput(x, ROWS)).dup().data().asFloat();
    int agree = 0;
    for (int r = 0; r < ROWS; r++) {
      agree += argMax(simulated, r, classes) == argMax(deployed, r, classes) ? 1 : 0;
    }
    System.out.println("QAT simulation agrees with TFLite int8 on " + agree + "/" + ROWS + " rows (top-1)");
    assertTrue(agree >= 0.99 * ROWS, "top-1 agreement " + agree + "/" + ROWS);
  }

  /** The first {@link #ROWS} test rows, NHWC (stored HWC order). */
  private static float[] testFeatures() {
    List<Row> rows = TensorDatasets.load(SharedSpark.get(), TestDatasets.test()).rows()
        .orderBy(TensorDatasets.ID).limit(ROWS).collectAsList();
    int length = rows.get(0).getList(rows.get(0).fieldIndex(TensorDatasets.FEATURES)).size();
    float[] x = new float[ROWS * length];
    for (int r = 0; r < ROWS; r++) {
      List<Float> f = rows.get(r).getList(rows.get(r).fieldIndex(TensorDatasets.FEATURES));
      for (int j = 0; j < length; j++) {
        x[r * length + j] = f.get(j);
      }
    }
    return x;
  }

  private static int argMax(float[] v, int row, int classes) {
    int best = 0;
    for (int k = 1; k < classes; k++) {
      if (v[row * classes + k] > v[row * classes + best]) {
        best = k;
      }
    }
    return best;
  }
}
