package io.sparkquant.jobs.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.ops.interp.NpyFile;
import io.sparkquant.ops.interp.TensorValue;
import io.sparkquant.ops.interp.TestCnn;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run stage called as a library, without the CLI. */
class RunJobTest {

  @TempDir Path dir;

  @Test
  void runsWritesOutputsAndReportsFailuresByKind() throws Exception {
    Path model = dir.resolve("cnn.tflite");
    Files.write(model, TfliteWriter.write(TestCnn.build(11, 1, true)));
    Path images = dir.resolve("images.npy");
    NpyFile.write(images, TensorValue.ofFloat(new int[] {3, 28, 28, 1}, TestCnn.images(12, 3)));

    Path out = dir.resolve("out");
    Map<String, TensorValue> written = RunJob.run(new RunJob.Options(model.toString(), List.of(images.toString()),
        out.toString(), RunJob.Runtime.java, 2, false));
    assertEquals(List.of("probs.npy"), List.copyOf(written.keySet()));
    TensorValue probs = NpyFile.read(out.resolve("probs.npy"));
    assertEquals(TensorType.FLOAT32, probs.type());
    assertArrayEquals(new int[] {3, 10}, probs.shape());
    assertArrayEquals(written.get("probs.npy").floats(), probs.floats());
    // the manifest records the options as the run command always has: runtime by name, no overwrite flag
    JsonNode options = new ObjectMapper().readTree(out.resolve("manifest.json").toFile()).get("options");
    assertEquals("java", options.get("runtime").asText());
    assertEquals(2, options.get("threads").asInt());
    assertFalse(options.has("overwrite"));

    RunJob.RunFailure twoInputs = assertThrows(RunJob.RunFailure.class, () -> RunJob.run(new RunJob.Options(
        model.toString(), List.of(images.toString(), images.toString()), dir.resolve("o2").toString(),
        RunJob.Runtime.java, 1, false)));
    assertEquals(RunJob.RunFailure.Kind.BAD_INPUT, twoInputs.kind());
    assertFalse(Files.exists(dir.resolve("o2")));
    assertThrows(IllegalArgumentException.class, () -> RunJob.run(new RunJob.Options(model.toString(),
        List.of(images.toString()), dir.resolve("o3").toString(), RunJob.Runtime.java, 0, false)));
  }

  /**
   * Converter tensor names ("model/dense_2/BiasAdd;model/dense_2/MatMul:0") are paths with colons and can be longer
   * than a file name may be: the file is index_stem_hash.npy, and manifest.json maps each tensor name to its file.
   */
  @Test
  void longTensorNamesWithSlashesAndColonsGiveSafeUniqueFileNames() throws Exception {
    StringBuilder longName = new StringBuilder("model/block_1/conv:0");
    while (longName.length() < 300) {
      longName.append("/sub:layer_").append(longName.length());
    }
    String name = longName.substring(0, 300);
    assertEquals(300, name.length());
    TfliteModel cnn = TestCnn.build(11, 1, true);
    List<TfliteTensor> tensors = new ArrayList<>(cnn.tensors());
    int output = cnn.outputs()[0];
    TfliteTensor t = tensors.get(output);
    tensors.set(output, new TfliteTensor(name, t.type(), t.shape(), t.data(), t.quantization()));
    TfliteModel renamed = new TfliteModel(cnn.description(), tensors, cnn.operators(), cnn.inputs(), cnn.outputs(),
        cnn.metadata());
    Path model = dir.resolve("long.tflite");
    Files.write(model, TfliteWriter.write(renamed));
    Path images = dir.resolve("images.npy");
    NpyFile.write(images, TensorValue.ofFloat(new int[] {2, 28, 28, 1}, TestCnn.images(12, 2)));

    Path out = dir.resolve("out-long");
    Map<String, TensorValue> written = RunJob.run(new RunJob.Options(model.toString(), List.of(images.toString()),
        out.toString(), RunJob.Runtime.java, 1, false));
    String file = List.copyOf(written.keySet()).get(0);
    assertTrue(file.matches("0_model_block_1_conv_0_sub_layer_[A-Za-z0-9._-]*_[0-9a-f]{8}\\.npy"), file);
    assertTrue(file.length() <= 100, file);
    assertArrayEquals(written.get(file).floats(), NpyFile.read(out.resolve(file)).floats());
    JsonNode entry = new ObjectMapper().readTree(out.resolve("manifest.json").toFile()).get("outputTensors").get(0);
    assertEquals(name, entry.get("tensor").asText());
    assertEquals(file, entry.get("file").asText());
  }

  @Test
  void fileNamesKeepSafeNamesAndTellApartNamesThatSanitizeAlike() {
    Set<String> used = new HashSet<>();
    assertEquals("probs.npy", RunJob.fileName("probs", 0, used));
    String a = RunJob.fileName("x/y:0", 1, used);
    String b = RunJob.fileName("x:y/0", 2, used);
    assertTrue(a.startsWith("1_x_y_0_") && b.startsWith("2_x_y_0_"), a + " " + b);
    assertFalse(a.substring(2).equals(b.substring(2)), "the hash differs: " + a + " " + b);
    // a repeated name, an empty name and a hidden-file name
    assertEquals("3_probs_", RunJob.fileName("probs", 3, used).substring(0, 8));
    assertTrue(RunJob.fileName("", 4, used).startsWith("4_output_"));
    assertTrue(RunJob.fileName("..", 5, used).startsWith("5_output_"));
    assertTrue(RunJob.fileName(".hidden", 6, used).startsWith("6_hidden_"));
    assertEquals(7, used.size());
  }
}
