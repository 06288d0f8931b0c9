package io.sparkquant.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.jobs.Main;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteTestModels;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class InspectCommandTest {

  @TempDir Path dir;

  private record Result(int exitCode, String out, String err) {}

  private static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  /** int8 CONV_2D (per-channel weights, int32 bias) plus TFLite-style metadata. */
  private Path convModel() throws Exception {
    byte[] w = new byte[3 * 3 * 3 * 2];
    Arrays.fill(w, (byte) 5);
    TfliteModel conv = TfliteTestModels.int8Conv2D(new int[] {1, 5, 5, 2}, 3, 3, 3, w,
        new float[] {0.01f, 0.02f, 0.005f}, new int[] {1, 2, 3}, 0.1f, 2, 0.5f, -1, Padding.VALID);
    TfliteModel.Builder b = TfliteModel.builder().description("inspect test");
    conv.tensors().forEach(b::addTensor);
    conv.operators().forEach(b::addOperator);
    TfliteModel model = b.inputs(conv.inputs()).outputs(conv.outputs())
        .metadata("min_runtime_version", Arrays.copyOf("1.14.0".getBytes(StandardCharsets.US_ASCII), 16))
        .metadata("sparkquant_provenance", "{\"mode\":\"int8\",\"seed\":7}".getBytes(StandardCharsets.UTF_8))
        .build();
    Path file = dir.resolve("conv.tflite");
    Files.write(file, TfliteWriter.write(model));
    return file;
  }

  @Test
  void textReportShowsOpsTensorsBytesMetadataAndRuntimeVerdict() throws Exception {
    Path file = convModel();
    Result r = run("inspect", file.toString());
    assertEquals(0, r.exitCode(), r.out() + r.err());
    String out = r.out();
    assertTrue(out.contains("CONV_2D") && out.contains("v3") && out.contains("TFLite 2.6.2 max v5"), out);
    assertTrue(out.contains("per-channel (dim 0): 3 scales in [0.005, 0.02]"), out);
    assertTrue(out.contains("per-tensor scale=0.1 zero_point=2"), out);
    assertTrue(out.matches("(?s).*weights\\.int8\\s+54\\n.*"), out);
    assertTrue(out.matches("(?s).*biases\\.int32\\s+12\\n.*"), out);
    assertTrue(out.contains("Min runtime version: 1.14.0"), out);
    assertTrue(out.contains("\"mode\":\"int8\""), out);
    assertTrue(out.contains("Verification: OK"), out);
    assertTrue(out.contains("TFLite 2.6.2: loads"), out);
    assertTrue(out.matches("(?s).*file\\s+" + String.format("%,d", Files.size(file)) + "\\n.*"), out);
  }

  @Test
  void jsonReportIsMachineReadable() throws Exception {
    Path file = convModel();
    Result r = run("inspect", file.toString(), "--json");
    assertEquals(0, r.exitCode(), r.err());
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertEquals(Files.size(file), json.at("/summary/fileBytes").asLong());
    assertEquals("CONV_2D", json.at("/summary/operators/0/name").asText());
    assertEquals(54, json.at("/summary/bytesByKind/weights.int8").asLong());
    assertEquals(3, json.at("/summary/tensors/1/channels").asInt());
    assertEquals("1.14.0", json.at("/summary/minRuntimeVersion").asText());
    assertTrue(json.at("/summary/problems").isEmpty());
    assertTrue(json.at("/tflite262Loads").asBoolean());
  }

  @Test
  void corruptFileExitsNonZeroWithAClearMessage() throws Exception {
    byte[] bytes = Files.readAllBytes(convModel());
    Path truncated = dir.resolve("truncated.tflite");
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
    Result r = run("inspect", truncated.toString());
    assertEquals(1, r.exitCode());
    assertTrue(r.err().contains("truncated.tflite is not a valid TFLite model"), r.err());

    Path text = dir.resolve("notes.tflite");
    Files.writeString(text, "hello, this is not a model");
    Result t = run("inspect", text.toString(), "--json");
    assertEquals(1, t.exitCode());
    assertTrue(new ObjectMapper().readTree(t.out()).get("error").asText().contains("file identifier"), t.out());

    Result missing = run("inspect", dir.resolve("absent.tflite").toString());
    assertEquals(1, missing.exitCode());
    assertTrue(missing.err().contains("cannot read"), missing.err());
  }

  @Test
  void modelThatTfliteRefusesExitsWithProblems() throws Exception {
    TfliteModel model = TfliteTestModels.singleOp(io.sparkquant.ops.tflite.BuiltinOp.ADD, 7,
            new io.sparkquant.ops.tflite.OperatorOptions.AddParams(io.sparkquant.ops.kernels.FusedActivation.NONE))
        .input("a", io.sparkquant.ops.tflite.TensorType.FLOAT32, new int[] {2}, null)
        .input("b", io.sparkquant.ops.tflite.TensorType.FLOAT32, new int[] {2}, null)
        .output("c", io.sparkquant.ops.tflite.TensorType.FLOAT32, new int[] {2}, null)
        .build();
    Path file = dir.resolve("add-v7.tflite");
    Files.write(file, TfliteWriter.write(model));
    Result r = run("inspect", file.toString());
    assertEquals(3, r.exitCode(), r.out());
    assertTrue(r.out().contains("version 7 is above 4"), r.out());
    assertTrue(r.out().contains("TFLite 2.6.2: REFUSED") && r.out().contains("Didn't find op"), r.out());
  }

  @Test
  void damagedFilesAreRefusedWithOneLineNamingFileAndTensorOrOperator() throws Exception {
    for (io.sparkquant.ops.tflite.DamagedModels.Case c : io.sparkquant.ops.tflite.DamagedModels.cases()) {
      Path file = dir.resolve(c.name() + ".tflite");
      Files.write(file, c.bytes());
      Result r = run("inspect", file.toString());
      assertEquals(1, r.exitCode(), c.name() + ": " + r.err());
      String[] lines = r.err().strip().split("\n");
      assertEquals(1, lines.length, c.name() + ": " + r.err());
      assertTrue(lines[0].startsWith("sparkquant inspect: " + file + " is not a valid TFLite model: "), lines[0]);
      assertTrue(lines[0].contains(c.expected()), c.name() + ": " + lines[0]);
    }
  }

  @Test
  void reshapeOptionsPrintTheirShape() throws Exception {
    Path file = dir.resolve("cnn.tflite");
    Files.write(file, io.sparkquant.ops.tflite.DamagedModels.valid());
    Result r = run("inspect", file.toString());
    assertTrue(r.out().contains("ReshapeParams[newShape=[-1, 1568]]"), r.out());
    assertTrue(!r.out().contains("[I@"), r.out());
  }
}
