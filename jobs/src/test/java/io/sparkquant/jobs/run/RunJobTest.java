package io.sparkquant.jobs.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.ops.interp.NpyFile;
import io.sparkquant.ops.interp.TensorValue;
import io.sparkquant.ops.interp.TestCnn;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
}
