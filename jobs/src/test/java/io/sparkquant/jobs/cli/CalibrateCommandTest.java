package io.sparkquant.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.calib.TensorCalibration;
import io.sparkquant.ops.graph.TestModels;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
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
import picocli.CommandLine;

class CalibrateCommandTest {

  @TempDir static Path dir;
  private static Path model;
  private static Path data;
  private static Path brokenModel;

  @BeforeAll
  static void fixtures() throws IOException {
    SparkSession spark = SharedSpark.get();
    model = dir.resolve("cnn.zip");
    ModelSerializer.writeModel(TestModels.cnnChain(3), model.toFile(), false);
    // A diverged model: the output layer's last bias is NaN, so tensor 'out' is NaN for every row.
    brokenModel = dir.resolve("broken.zip");
    MultiLayerNetwork broken = TestModels.cnnChain(3);
    broken.params().putScalar(broken.params().length() - 1, Float.NaN);
    ModelSerializer.writeModel(broken, brokenModel.toFile(), false);
    data = dir.resolve("data");
    write(spark, data);
  }

  private static void write(SparkSession spark, Path out) {
    StructType schema = new StructType()
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("label", DataTypes.IntegerType, false)
        .add("id", DataTypes.LongType, false);
    Random rnd = new Random(17);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 96; i++) {
      Float[] f = new Float[300];
      for (int k = 0; k < f.length; k++) {
        f[k] = rnd.nextFloat();
      }
      rows.add(RowFactory.create(f, i % 5, 1000L + i));
    }
    TensorDatasets.write(spark.createDataFrame(rows, schema).repartition(3),
        new DatasetInfo(new int[] {10, 10, 3}, List.of("a", "b", "c", "d", "e")), out.toString(), Map.of());
  }

  private record Exec(int code, String out, String err) {}

  private static Exec exec(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Exec(code, out.toString(), err.toString());
  }

  private static List<Path> files(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.sorted().toList();
    }
  }

  @Test
  void progressLinesOnlyWhenAsked() {
    String[] common = {"calibrate", "--master", "local[2]", "--model", model.toString(), "--data", data.toString(),
        "--method", "minmax", "--batch-size", "8"};
    // Tests run without a terminal: quiet by default.
    Exec quiet = exec(concat(common, "--out", dir.resolve("p0/table.json").toString()));
    assertEquals(0, quiet.code(), quiet.err());
    assertFalse(quiet.out().contains("progress:"), quiet.out());
    Exec shown = exec(concat(common, "--progress", "--out", dir.resolve("p1/table.json").toString()));
    assertEquals(0, shown.code(), shown.err());
    List<String> lines = shown.out().lines().filter(l -> l.startsWith("progress: ")).toList();
    assertFalse(lines.isEmpty(), shown.out());
    for (String line : lines) {
      assertTrue(line.matches("progress: .+ \\d+/\\d+ (rows|tasks) \\(\\d+%\\), \\d+ (rows|tasks)/s, \\S+ left"), line);
    }
    assertTrue(shown.out().contains("Calibrated "), shown.out());
    Exec off = exec(concat(common, "--no-progress", "--out", dir.resolve("p2/table.json").toString()));
    assertEquals(0, off.code(), off.err());
    assertFalse(off.out().contains("progress:"), off.out());
  }

  @Test
  void writesTableAndManifestIndependentOfPartitions() throws IOException {
    Path out1 = dir.resolve("t1/table.json");
    Path out4 = dir.resolve("t4/table.json");
    String[] common = {"calibrate", "--master", "local[2]", "--model", model.toString(), "--data", data.toString(),
        "--method", "percentile", "--percentile", "99.9", "--rows", "80", "--seed", "4", "--batch-size", "8"};
    Exec a = exec(concat(common, "--partitions", "1", "--out", out1.toString()));
    assertEquals(0, a.code(), a.err());
    Exec b = exec(concat(common, "--partitions", "4", "--out", out4.toString()));
    assertEquals(0, b.code(), b.err());
    assertEquals(Files.readString(out1), Files.readString(out4), "bit-identical tables");
    CalibrationTable table = CalibrationTable.fromJson(Files.readString(out1));
    assertEquals("percentile", table.method().name());
    assertEquals(List.of(out1, out1.getParent().resolve("table.manifest.json")), files(out1.getParent()));
    JsonNode manifest = OutputDir.json().readTree(out1.getParent().resolve("table.manifest.json").toFile());
    assertEquals("calibrate", manifest.get("command").asText());
    assertEquals(4, manifest.get("options").get("seed").asInt());
    assertEquals(80, manifest.get("calibration").get("rows").asInt());
  }

  @Test
  void quantizeTakesItsActivationParametersFromTheTable() throws IOException {
    Path table = dir.resolve("q/table.json");
    Exec c = exec("calibrate", "--master", "local[2]", "--model", model.toString(), "--data", data.toString(),
        "--method", "mse", "--batch-size", "16", "--out", table.toString());
    assertEquals(0, c.code(), c.err());
    Path tflite = dir.resolve("q/model.tflite");
    Exec q = exec("quantize", "--model", model.toString(), "--mode", "int8", "--calibration", table.toString(),
        "--input-shape", "10,10,3", "--out", tflite.toString());
    assertEquals(0, q.code(), q.err());
    CalibrationTable t = CalibrationTable.fromJson(Files.readString(table));
    TfliteModel m = TfliteReader.read(Files.readAllBytes(tflite));
    int matched = 0;
    for (TfliteTensor tensor : m.tensors()) {
      TensorCalibration cal = t.tensors().get(tensor.name());
      // Conv/depthwise/FC outputs take the table's parameters; softmax/logistic/tanh outputs are fixed and pooling
      // or reshape outputs inherit their input's (QUANT-SPEC.md).
      if (cal != null && tensor.type() == TensorType.INT8 && List.of("input", "conv1", "dw", "fc1", "out")
          .contains(tensor.name())) {
        assertEquals(cal.scale(), tensor.quantization().scale()[0], tensor.name());
        assertEquals(cal.zeroPoint(), tensor.quantization().zeroPoint()[0], tensor.name());
        matched++;
      }
    }
    assertEquals(5, matched, "int8 tensors matched by name");
  }

  @Test
  void nonFiniteActivationsNameTheTensorAndWriteNothing() throws IOException {
    Path out = dir.resolve("bad/table.json");
    Files.createDirectories(out.getParent());
    Exec e = exec("calibrate", "--master", "local[2]", "--model", brokenModel.toString(), "--data",
        data.toString(), "--out", out.toString());
    assertNotEquals(0, e.code(), () -> e.out() + read(out));
    assertTrue(e.err().contains("tensor 'out' has 96 NaN/Inf values among 480"), e.err());
    assertEquals(List.of(), files(out.getParent()), "no table, manifest or temporary file");
  }

  @Test
  void emptyCalibrationSetWritesNothing() throws IOException {
    Path out = dir.resolve("empty/table.json");
    Files.createDirectories(out.getParent());
    Exec e = exec("calibrate", "--master", "local[2]", "--model", model.toString(), "--data", data.toString(),
        "--fraction", "1e-12", "--out", out.toString());
    assertNotEquals(0, e.code());
    assertTrue(e.err().contains("empty calibration set"), e.err());
    assertEquals(List.of(), files(out.getParent()));
  }

  @Test
  void badOptionsFailBeforeSpark() {
    String[][] bad = {
        {"--method", "kl"},
        {"--method", "mse", "--percentile", "99"},
        {"--rows", "5", "--fraction", "0.5"},
        {"--fraction", "1.5"},
        {"--batch-size", "0"},
    };
    for (String[] extra : bad) {
      Exec e = exec(concat(new String[] {"calibrate", "--model", model.toString(), "--data", data.toString(),
          "--out", dir.resolve("never.json").toString()}, extra));
      assertEquals(2, e.code(), String.join(" ", extra) + ": " + e.err());
      assertFalse(Files.exists(dir.resolve("never.json")));
    }
    Exec missing = exec("calibrate", "--model", dir.resolve("nope.zip").toString(), "--data", data.toString(),
        "--out", dir.resolve("never.json").toString());
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("nope.zip"), missing.err());
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return e.toString();
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = new String[a.length + b.length];
    System.arraycopy(a, 0, r, 0, a.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
