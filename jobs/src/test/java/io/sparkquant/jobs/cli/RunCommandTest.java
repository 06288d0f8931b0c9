package io.sparkquant.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.jobs.Main;
import io.sparkquant.ops.interp.NpyFile;
import io.sparkquant.ops.interp.TensorValue;
import io.sparkquant.ops.interp.TestCnn;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class RunCommandTest {

  @TempDir Path dir;
  private Path model;
  private Path images;

  private record Result(int exitCode, String out, String err) {}

  private static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  @BeforeEach
  void writeModelAndInputs() throws Exception {
    model = dir.resolve("cnn.tflite");
    Files.write(model, TfliteWriter.write(TestCnn.build(11, 1, true))); // declared batch 1
    images = dir.resolve("images.npy");
    NpyFile.write(images, TensorValue.ofFloat(new int[] {5, 28, 28, 1}, TestCnn.images(12, 5)));
  }

  @Test
  void javaAndTfliteRuntimesWriteIdenticalOutputs() throws Exception {
    Result java = run("run", model.toString(), "--input", images.toString(), "--output-dir",
        dir.resolve("java").toString());
    assertEquals(0, java.exitCode(), java.err());
    assertTrue(java.out().contains("probs.npy: FLOAT32 [5, 10]"), java.out());
    Result tflite = run("run", model.toString(), "--input", images.toString(), "--output-dir",
        dir.resolve("tflite").toString(), "--runtime", "tflite", "--threads", "2");
    assertEquals(0, tflite.exitCode(), tflite.err());
    Result threaded = run("run", model.toString(), "--input", images.toString(), "--output-dir",
        dir.resolve("java2").toString(), "--threads", "3");
    assertEquals(0, threaded.exitCode(), threaded.err());

    TensorValue j = NpyFile.read(dir.resolve("java/probs.npy"));
    TensorValue t = NpyFile.read(dir.resolve("tflite/probs.npy"));
    assertEquals(TensorType.FLOAT32, j.type());
    assertArrayEquals(new int[] {5, 10}, j.shape());
    assertArrayEquals(t.floats(), j.floats(), "bit-exact int8 model, exact dequantization");
    assertArrayEquals(j.floats(), NpyFile.read(dir.resolve("java2/probs.npy")).floats());
    assertTrue(Files.exists(dir.resolve("java/manifest.json")));
  }

  @Test
  void wrongDtypeShapeCountAndCorruptFilesFailWithTheirName() throws Exception {
    Path int16 = dir.resolve("int16.npy");
    NpyFile.write(int16, TensorValue.ofInt16(new int[] {1, 28, 28, 1}, new short[784]));
    Result dtype = run("run", model.toString(), "--input", int16.toString(), "--output-dir",
        dir.resolve("o1").toString());
    assertEquals(1, dtype.exitCode());
    assertTrue(dtype.err().contains("int16.npy: model input 0 'image' is FLOAT32 (.npy dtype '<f4'), the file holds "
        + "INT16"), dtype.err());

    Path shape = dir.resolve("shape.npy");
    NpyFile.write(shape, TensorValue.ofFloat(new int[] {2, 28, 28}, new float[2 * 784]));
    Result badShape = run("run", model.toString(), "--input", shape.toString(), "--output-dir",
        dir.resolve("o2").toString());
    assertEquals(1, badShape.exitCode());
    assertTrue(badShape.err().contains("needs shape (batch, 28, 28, 1)") && badShape.err().contains("[2, 28, 28]"),
        badShape.err());

    Path corrupt = dir.resolve("corrupt.npy");
    byte[] good = Files.readAllBytes(images);
    Files.write(corrupt, java.util.Arrays.copyOf(good, good.length - 10));
    Result truncated = run("run", model.toString(), "--input", corrupt.toString(), "--output-dir",
        dir.resolve("o3").toString());
    assertEquals(1, truncated.exitCode());
    assertTrue(truncated.err().contains("corrupt.npy") && truncated.err().contains("data bytes"), truncated.err());

    Result twoInputs = run("run", model.toString(), "--input", images.toString(), "--input", images.toString(),
        "--output-dir", dir.resolve("o4").toString());
    assertEquals(1, twoInputs.exitCode());
    assertTrue(twoInputs.err().contains("the model has 1 inputs ['image' FLOAT32 [1, 28, 28, 1]], got 2"),
        twoInputs.err());

    Path notModel = dir.resolve("not.tflite");
    Files.write(notModel, new byte[] {1, 2, 3});
    Result badModel = run("run", notModel.toString(), "--input", images.toString(), "--output-dir",
        dir.resolve("o5").toString());
    assertEquals(1, badModel.exitCode());
    assertTrue(badModel.err().contains("not.tflite is not a valid TFLite model"), badModel.err());
    for (String o : new String[] {"o1", "o2", "o3", "o4", "o5"}) {
      assertFalse(Files.exists(dir.resolve(o)), "no output directory after a failure: " + o);
    }

    Files.createDirectories(dir.resolve("exists"));
    Result exists = run("run", model.toString(), "--input", images.toString(), "--output-dir",
        dir.resolve("exists").toString());
    assertEquals(1, exists.exitCode());
    assertTrue(exists.err().contains("already exists"), exists.err());
    assertEquals(2, run("run", model.toString(), "--output-dir", "x").exitCode(), "missing --input");
  }

  @Test
  void damagedModelsAreRefusedWithOneLineAndNoOutput() throws Exception {
    for (io.sparkquant.ops.tflite.DamagedModels.Case c : io.sparkquant.ops.tflite.DamagedModels.cases()) {
      Path file = dir.resolve(c.name() + ".tflite");
      Files.write(file, c.bytes());
      Path out = dir.resolve("out-" + c.name());
      Result r = run("run", file.toString(), "--input", images.toString(), "--output-dir", out.toString());
      assertEquals(1, r.exitCode(), c.name() + ": " + r.err());
      String[] lines = r.err().strip().split("\n");
      assertEquals(1, lines.length, c.name() + ": " + r.err());
      assertTrue(lines[0].startsWith("sparkquant run: " + file + " is not a valid TFLite model: "), lines[0]);
      assertTrue(lines[0].contains(c.expected()), c.name() + ": " + lines[0]);
      assertFalse(Files.exists(out), c.name());
    }
  }

  @Test
  void nanInputIsRefusedNamingFileRowAndIndex() throws Exception {
    float[] x = TestCnn.images(12, 3);
    x[784 + 5] = Float.NaN;
    Path nan = dir.resolve("nan.npy");
    NpyFile.write(nan, TensorValue.ofFloat(new int[] {3, 28, 28, 1}, x));
    Result r = run("run", model.toString(), "--input", nan.toString(), "--output-dir", dir.resolve("o").toString());
    assertEquals(1, r.exitCode(), r.err());
    assertEquals("sparkquant run: " + nan + ": element 789 (row 1, index 5 in the row) is NaN; inputs must be numbers",
        r.err().strip());
    assertFalse(Files.exists(dir.resolve("o")));
  }
}
