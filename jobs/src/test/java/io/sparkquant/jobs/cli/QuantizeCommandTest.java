package io.sparkquant.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.output.ProjectVersion;
import io.sparkquant.jobs.quantize.QuantizeJob;
import io.sparkquant.jobs.spark.ExecutorCache;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.export.ExportMode;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.Quantizer;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.TestModels;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteRuntime;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
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
    data = dir.resolve("calib");
    writeDataset(data, new int[] {10, 10, 3}, List.of("a", "b", "c", "d", "e"), 40);
  }

  /** {@code rows} rows of uniform random features of {@code shape}, ids 0..rows-1, in 2 partitions. */
  static void writeDataset(Path out, int[] shape, List<String> classNames, int rows) {
    SparkSession spark = SharedSpark.get();
    Random r = new Random(3);
    int length = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    List<Row> list = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      List<Float> boxed = new ArrayList<>();
      for (int j = 0; j < length; j++) {
        boxed.add(r.nextFloat());
      }
      list.add(RowFactory.create(boxed, i % classNames.size(), (long) i));
    }
    StructType schema = new StructType()
        .add(TensorDatasets.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add(TensorDatasets.LABEL, DataTypes.IntegerType, false)
        .add(TensorDatasets.ID, DataTypes.LongType, false);
    Dataset<Row> df = spark.createDataFrame(list, schema).repartition(2);
    TensorDatasets.write(df, new DatasetInfo(shape, classNames), out.toString(),
        Map.of("test", "QuantizeCommandTest"));
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
    assertEquals("minmax", card.get("calibrationMethod").asText());
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
    err = run("quantize", "--model", modelZip.toString(), "--mode", "int8", "--calibration-data", data.toString(),
        "--calibration-method", "median", "--out", out.toString());
    assertTrue(err.contains("--calibration-method"), err);
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

  @Test
  void calibrationDataGivesTheBytesOfCalibrateThenQuantizeWithTheTable() throws Exception {
    for (String method : new String[] {"minmax", "mse"}) {
      Path table = dir.resolve(method + "32.json");
      assertEquals(0, Main.execute("calibrate", "--model", modelZip.toString(), "--data", data.toString(),
          "--method", method, "--rows", "32", "--seed", "5", "--out", table.toString()));
      Path viaTable = dir.resolve("via-table-" + method + ".tflite");
      assertEquals(0, Main.execute("quantize", "--model", modelZip.toString(), "--mode", "int8", "--calibration",
          table.toString(), "--out", viaTable.toString()));
      Path viaData = dir.resolve("via-data-" + method + ".tflite");
      List<String> args = new ArrayList<>(List.of("quantize", "--model", modelZip.toString(), "--mode", "int8",
          "--calibration-data", data.toString(), "--calibration-rows", "32", "--seed", "5", "--out",
          viaData.toString()));
      if (!method.equals("minmax")) { // minmax is the default
        args.addAll(List.of("--calibration-method", method));
      }
      assertEquals(0, Main.execute(args.toArray(String[]::new)));
      assertArrayEquals(Files.readAllBytes(viaTable), Files.readAllBytes(viaData), method);
    }
    Path viaTable = dir.resolve("via-table-minmax.tflite");
    assertFalse(Arrays.equals(Files.readAllBytes(viaTable), Files.readAllBytes(dir.resolve("via-table-mse.tflite"))),
        "mse chose other ranges than minmax");

    // Another sample (seed) gives other ranges, so the equality above is not vacuous.
    Path otherSeed = dir.resolve("other-seed.tflite");
    assertEquals(0, Main.execute("quantize", "--model", modelZip.toString(), "--mode", "int8",
        "--calibration-data", data.toString(), "--calibration-rows", "32", "--seed", "6",
        "--out", otherSeed.toString()));
    assertFalse(Arrays.equals(Files.readAllBytes(viaTable), Files.readAllBytes(otherSeed)));
  }

  @Test
  void libraryCallWithoutSparkGivesTheBytesOfTheCommand() throws Exception {
    Path table = dir.resolve("minmax-lib.json");
    assertEquals(0, Main.execute("calibrate", "--model", modelZip.toString(), "--data", data.toString(),
        "--rows", "20", "--out", table.toString()));
    Path cli = dir.resolve("cli.tflite");
    assertEquals(0, Main.execute("quantize", "--model", modelZip.toString(), "--mode", "int8", "--io", "int8",
        "--calibration", table.toString(), "--out", cli.toString()));

    byte[] modelBytes = Files.readAllBytes(modelZip);
    CalibrationTable calibration = CalibrationTable.fromJson(Files.readString(table, StandardCharsets.UTF_8));
    Graph graph = Dl4jImporter.importModel(Dl4jImporter.load(modelBytes), null);
    Quantizer.Result lib = Quantizer.quantize(graph, calibration.toActivationRanges(),
        new Quantizer.Config(ExportMode.INT8, ExportOptions.IoType.INT8, Set.of(), 0,
            ExecutorCache.sha256(modelBytes), ProjectVersion.get()), null, Map.of());
    assertArrayEquals(Files.readAllBytes(cli), lib.tflite());

    // The job with the table in memory, as the demo calls it, and no Spark session.
    Path job = dir.resolve("job.tflite");
    QuantizeJob.Result r = QuantizeJob.run(null, new QuantizeJob.Options(modelZip.toString(), job.toString(),
        ExportMode.INT8, ExportOptions.IoType.INT8, null, Set.of(), 0, null, null, null, 1, 0, 1, false, false),
        calibration);
    assertArrayEquals(lib.tflite(), Files.readAllBytes(job));
    assertEquals(dir.resolve("job.json").toString(), r.cardPath());
    JsonNode card = new ObjectMapper().readTree(dir.resolve("job.json").toFile());
    assertEquals(lib.tflite().length, card.get("fileSizeBytes").asLong());
  }

  @Test
  void modelWithoutRecordedShapeTakesItFromTheDataOrTheTable() throws Exception {
    Path cg = dir.resolve("residual-own.zip");
    ModelSerializer.writeModel(TestModels.residual(5, org.deeplearning4j.nn.conf.layers.PoolingType.AVG),
        cg.toFile(), false);
    Path data8 = dir.resolve("calib8");
    writeDataset(data8, new int[] {8, 8, 3}, List.of("x", "y", "z"), 24);
    Path table = dir.resolve("residual-table.json");
    assertEquals(0, Main.execute("calibrate", "--model", cg.toString(), "--data", data8.toString(),
        "--out", table.toString()));
    // not residual-table.tflite: its model card residual-table.json would replace the table
    Path fromTable = dir.resolve("residual-from-table.tflite");
    assertEquals(0, Main.execute("quantize", "--model", cg.toString(), "--mode", "int8", "--calibration",
        table.toString(), "--out", fromTable.toString()));
    Path fromData = dir.resolve("residual-data.tflite");
    assertEquals(0, Main.execute("quantize", "--model", cg.toString(), "--mode", "int8", "--calibration-data",
        data8.toString(), "--calibration-rows", "24", "--seed", "0", "--out", fromData.toString()));
    assertArrayEquals(Files.readAllBytes(fromTable), Files.readAllBytes(fromData));
    try (TfliteRuntime rt = TfliteRuntime.create(Files.readAllBytes(fromTable), 1)) {
      assertEquals(3, ((float[]) rt.run((Object) new float[8 * 8 * 3])[0]).length);
    }
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
