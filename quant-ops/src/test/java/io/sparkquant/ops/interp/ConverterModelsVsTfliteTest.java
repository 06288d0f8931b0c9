package io.sparkquant.ops.interp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.ModelCheck;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Models that SparkQuant did not write: third-party .tflite files from public packages (source, version,
 * licence and SHA-256 in src/test/resources/converter-models/README.md), run on seeded random inputs in the
 * interpreter and in TFLite 2.6.2. A model whose ops the interpreter lacks must be refused at load time with
 * the op named, never run wrongly.
 */
class ConverterModelsVsTfliteTest {

  private static final String DIR = "/converter-models/";

  @Test
  void faceDetectionShortRangeMatchesTflite() {
    byte[] bytes = resource("face_detection_short_range.tflite",
        "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633");
    TfliteModel model = TfliteReader.read(bytes);
    Interpreter interpreter = new Interpreter(model);
    SplittableRandom rnd = new SplittableRandom(12);
    for (int trial = 0; trial < 3; trial++) {
      Object[] inputs = randomInputs(interpreter, rnd);
      Object[] ours = interpreter.run(inputs);
      Object[] theirs;
      try (TfliteRuntime runtime = TfliteRuntime.create(bytes, 1)) {
        theirs = runtime.run(inputs);
      }
      assertEquals(theirs.length, ours.length);
      for (int i = 0; i < ours.length; i++) {
        // float32 model: the same tolerance as the single-op float tests (summation order differs)
        Judge.compare("trial " + trial + ", output " + i, theirs[i], ours[i], Judge.FLOAT_RELATIVE_TOLERANCE);
      }
    }
  }

  @Test
  void helloWorldInt8MatchesTfliteExactly() {
    byte[] bytes = resource("hello_world_int8.tflite",
        "b8ba5f16b2427f043058c4ee9d22558dc31a7f162a0e2f053712118088d524dc");
    TfliteModel model = TfliteReader.read(bytes);
    Interpreter interpreter = new Interpreter(model);
    assertEquals(TensorType.INT8, interpreter.inputTensor(0).type());
    SplittableRandom rnd = new SplittableRandom(12);
    try (TfliteRuntime runtime = TfliteRuntime.create(bytes, 1)) {
      // one int8 scalar in: every value of its range, then seeded random ones
      for (int q = -128; q <= 127; q++) {
        Object[] inputs = {new byte[] {(byte) q}};
        Judge.compare("input " + q, runtime.run(inputs)[0], interpreter.run(inputs)[0], 0f);
      }
      for (int trial = 0; trial < 20; trial++) {
        Object[] inputs = randomInputs(interpreter, rnd);
        Judge.compare("trial " + trial, runtime.run(inputs)[0], interpreter.run(inputs)[0], 0f);
      }
    }
  }

  /**
   * TFLite Micro's micro_speech keyword model (int8 in [1,49,40,1], int8 scores for silence, unknown, yes, no):
   * the yes and no spectrograms of its own test data, then seeded random int8 spectrograms.
   */
  @Test
  void microSpeechInt8MatchesTfliteExactlyAndHearsYesAndNo() {
    byte[] bytes = resource("micro_speech_int8.tflite",
        "3cacd1c032aea537a2fe6259a963d1145de5f544e867bffdcc54470fcbb7c571");
    byte[] yes = resource("micro_speech_yes_features.int8",
        "1786ccf8826cdddfdcf11782bbfbc44fedec8c98f2b14910255282245cb0c390");
    byte[] no = resource("micro_speech_no_features.int8",
        "719a7f7c5a4396f53421086b666b7699a6d39a97d3a068c3af7b230cde942a74");
    Interpreter interpreter = new Interpreter(TfliteReader.read(bytes));
    assertEquals(TensorType.INT8, interpreter.inputTensor(0).type());
    assertEquals(yes.length, interpreter.inputTensor(0).elementCount());
    SplittableRandom rnd = new SplittableRandom(12);
    try (TfliteRuntime runtime = TfliteRuntime.create(bytes, 1)) {
      byte[][] spoken = {yes, no};
      int[] expectedLabel = {2, 3};
      for (int k = 0; k < spoken.length; k++) {
        Object[] inputs = {spoken[k]};
        byte[] theirs = (byte[]) runtime.run(inputs)[0];
        byte[] ours = (byte[]) interpreter.run(inputs)[0];
        Judge.compare(MICRO_SPEECH_LABELS[expectedLabel[k]] + " features", theirs, ours, 0f);
        assertEquals(MICRO_SPEECH_LABELS[expectedLabel[k]], MICRO_SPEECH_LABELS[argmax(ours)],
            java.util.Arrays.toString(ours));
      }
      for (int trial = 0; trial < 50; trial++) {
        Object[] inputs = randomInputs(interpreter, rnd);
        Judge.compare("trial " + trial, runtime.run(inputs)[0], interpreter.run(inputs)[0], 0f);
      }
    }
  }

  private static final String[] MICRO_SPEECH_LABELS = {"silence", "unknown", "yes", "no"};

  private static int argmax(byte[] scores) {
    int best = 0;
    for (int i = 1; i < scores.length; i++) {
      if (scores[i] > scores[best]) {
        best = i;
      }
    }
    return best;
  }

  @Test
  void selfieSegmentationIsRefusedNamingTheMissingOps() {
    byte[] bytes = resource("selfie_segmentation.tflite",
        "8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27");
    // TFLite itself needs MediaPipe's custom op registered, so it is no judge here
    TfliteModel model = TfliteReader.read(bytes);
    InvalidModelException e = assertThrows(InvalidModelException.class, () -> new Interpreter(model));
    assertTrue(e.getMessage().contains("RESIZE_BILINEAR"), e.getMessage());
    // every problem: its HARD_SWISH ops (float32) are no longer among them
    String problems = String.join("\n", ModelCheck.verify(model, BuiltinOpResolver.INSTANCE));
    assertFalse(problems.contains("HARD_SWISH"), problems);
    assertTrue(problems.contains("Convolution2DTransposeBias"), problems);
  }

  /** Seeded inputs over each input's range: [-1, 1] for float32 (the image range these models take). */
  static Object[] randomInputs(Interpreter interpreter, SplittableRandom rnd) {
    Object[] inputs = new Object[interpreter.inputCount()];
    for (int i = 0; i < inputs.length; i++) {
      TfliteTensor t = interpreter.inputTensor(i);
      int n = t.elementCount();
      if (t.type() == TensorType.FLOAT32) {
        inputs[i] = Judge.floats(rnd, n, -1, 1);
      } else if (t.type() == TensorType.INT8) {
        inputs[i] = Judge.int8s(rnd, n, -128, 127);
      } else {
        throw new AssertionError("input " + i + " has type " + t.type());
      }
    }
    return inputs;
  }

  private static byte[] resource(String name, String sha256) {
    try (InputStream in = ConverterModelsVsTfliteTest.class.getResourceAsStream(DIR + name)) {
      if (in == null) {
        throw new AssertionError("missing test resource " + DIR + name);
      }
      byte[] bytes = in.readAllBytes();
      // the README records this hash: the file must be the published one, unchanged
      assertEquals(sha256, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)), name);
      return bytes;
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
