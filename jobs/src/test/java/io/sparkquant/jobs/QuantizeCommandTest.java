package io.sparkquant.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.ops.graph.TestModels;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteRuntime;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizeCommandTest {

  @TempDir static Path dir;
  static Path modelZip;
  static Path data;

  @BeforeAll
  static void setUp() throws Exception {
    MultiLayerNetwork net = TestModels.cnnChain(7); // convolutionalFlat(10, 10, 3)
    modelZip = dir.resolve("cnn.zip");
    ModelSerializer.writeModel(net, modelZip.toFile(), false);
    SparkSession spark = SharedSpark.get();
    Random r = new Random(3);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      float[] f = new float[300];
      for (int j = 0; j < f.length; j++) {
        f[j] = r.nextFloat();
      }
      List<Float> boxed = new ArrayList<>();
      for (float v : f) {
        boxed.add(v);
      }
      rows.add(RowFactory.create(boxed, i % 5, (long) i));
    }
    StructType schema = new StructType()
        .add(TensorDatasets.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add(TensorDatasets.LABEL, DataTypes.IntegerType, false)
        .add(TensorDatasets.ID, DataTypes.LongType, false);
    Dataset<Row> df = spark.createDataFrame(rows, schema).repartition(2);
    data = dir.resolve("calib");
    TensorDatasets.write(df, new DatasetInfo(new int[] {10, 10, 3}, List.of("a", "b", "c", "d", "e")),
        data.toString(), Map.of("test", "QuantizeCommandTest"));
  }

  @Test
  void int8WithCalibrationWritesLoadableModelAndCard() throws Exception {
    Path out = dir.resolve("int8.tflite");
    int code = Main.execute("quantize", "--model", modelZip.toString(), "--mode", "int8", "--io", "int8",
        "--calibration-data", data.toString(), "--calibration-rows", "32", "--batch-size", "8",
        "--out", out.toString());
    assertEquals(0, code);
    byte[] bytes = Files.readAllBytes(out);
    try (TfliteRuntime rt = TfliteRuntime.create(bytes, 1)) {
      assertEquals(TensorType.INT8, rt.inputType(0));
      assertEquals(TensorType.INT8, rt.outputType(0));
      byte[] x = new byte[300];
      byte[] y = (byte[]) rt.run((Object) x)[0];
      assertEquals(5, y.length);
    }
    JsonNode card = new ObjectMapper().readTree(dir.resolve("int8.json").toFile());
    assertEquals("int8", card.get("mode").asText());
    assertEquals("int8", card.get("io").asText());
    assertEquals(bytes.length, card.get("fileSizeBytes").asLong());
    assertEquals(32, card.get("calibrationRows").asInt());
    assertEquals("1.14.0", card.get("minRuntimeVersion").asText());
    // Tiny model: flatbuffer structure dominates, so only "smaller than float32" is meaningful here.
    assertTrue(card.get("sizeRatioToFloat32").asDouble() < 1.0, card.toString());
    assertEquals(64, card.get("provenance").get("sourceModelSha256").asText().length());
    try (Stream<Path> files = Files.list(dir)) {
      assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary file left behind");
    }
  }

  @Test
  void float16NeedsNoData() throws Exception {
    Path out = dir.resolve("f16.tflite");
    assertEquals(0, Main.execute("quantize", "--model", modelZip.toString(), "--mode", "float16",
        "--out", out.toString()));
    try (TfliteRuntime rt = TfliteRuntime.create(Files.readAllBytes(out), 1)) {
      assertEquals(5, ((float[]) rt.run((Object) new float[300])[0]).length);
    }
  }

  @Test
  void optionsAreValidatedBeforeWork() {
    Path out = dir.resolve("bad.tflite");
    String err = run("quantize", "--model", modelZip.toString(), "--mode", "int8", "--out", out.toString());
    assertTrue(err.contains("--mode int8 needs exactly one of --calibration-data"), err);
    err = run("quantize", "--model", modelZip.toString(), "--mode", "float16", "--io", "int8", "--out",
        out.toString());
    assertTrue(err.contains("--io is only valid with --mode int8"), err);
    err = run("quantize", "--model", modelZip.toString(), "--mode", "int4", "--out", out.toString());
    assertTrue(err.contains("unknown mode 'int4'"), err);
    err = run("quantize", "--model", dir.resolve("missing.zip").toString(), "--mode", "float32", "--out",
        out.toString());
    assertTrue(err.contains("is not a file"), err);
    assertFalse(Files.exists(out));
  }

  @Test
  void convolutionalGraphWithoutRecordedShapeAsksForInputShape() throws Exception {
    Path cg = dir.resolve("residual.zip");
    ModelSerializer.writeModel(TestModels.residual(5, org.deeplearning4j.nn.conf.layers.PoolingType.AVG),
        cg.toFile(), false);
    Path out = dir.resolve("residual.tflite");
    String err = run("quantize", "--model", cg.toString(), "--mode", "float32", "--out", out.toString());
    assertTrue(err.contains("use --input-shape H,W,C"), err);
    assertEquals(0, Main.execute("quantize", "--model", cg.toString(), "--mode", "dynamic", "--input-shape",
        "8,8,3", "--out", out.toString()));
    assertTrue(Files.isReadable(out));
  }

  /** Runs the CLI expecting a usage error (exit code 2); returns what it printed on stderr. */
  static String run(String... args) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertEquals(2, Main.execute(args));
    } finally {
      System.setErr(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }
}
