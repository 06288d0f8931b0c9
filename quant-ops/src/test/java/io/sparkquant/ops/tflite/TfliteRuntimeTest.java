package io.sparkquant.ops.tflite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.interp.BuiltinOpResolver;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.tflite.TfliteTestModels.Int8FcParams;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Models written by TfliteWriter load and compute the right thing in the real TFLite 2.6.2 runtime. */
class TfliteRuntimeTest {

  /** Float kernels may reorder the sums; relative to the magnitude of the terms. */
  private static final float FLOAT_TOLERANCE = 1e-5f;

  @Test
  void reportsRuntimeVersion() {
    assertEquals("2.6.2", TfliteRuntime.runtimeVersion());
  }

  @Test
  void floatAddMatchesJava() {
    Random random = new Random(1);
    int[] shape = {2, 3, 4};
    float[] a = randomFloats(random, 24);
    float[] b = randomFloats(random, 24);
    float[] sum = (float[]) TfliteTestModels.runInTflite(TfliteTestModels.floatAdd(shape), a, b)[0];
    for (int i = 0; i < a.length; i++) {
      assertEquals(a[i] + b[i], sum[i], 0f, "element " + i); // one float addition: exact
    }
  }

  @Test
  void modelWithMetadataAndDescriptionLoadsAndRuns() {
    TfliteModel model = TfliteFlatbufferTest.withMetadata(TfliteTestModels.floatAdd(new int[] {4}));
    float[] sum = (float[]) TfliteTestModels.runInTflite(model, new float[] {1, 2, 3, 4}, new float[] {4, 3, 2, 1})[0];
    assertArrayEquals(new float[] {5, 5, 5, 5}, sum, 0f);
  }

  @Test
  void floatFullyConnectedMatchesJava() {
    Random random = new Random(2);
    int batch = 3;
    int in = 7;
    int out = 5;
    float[] w = randomFloats(random, out * in);
    float[] bias = randomFloats(random, out);
    float[] x = randomFloats(random, batch * in);
    TfliteModel model = TfliteTestModels.floatFullyConnected(batch, in, out, w, bias, FusedActivation.RELU);
    float[] y = (float[]) TfliteTestModels.runInTflite(model, x)[0];
    assertEquals(batch * out, y.length);
    int positives = 0;
    for (int b = 0; b < batch; b++) {
      for (int o = 0; o < out; o++) {
        double acc = bias[o];
        double magnitude = Math.abs(bias[o]);
        for (int i = 0; i < in; i++) {
          acc += (double) x[b * in + i] * w[o * in + i];
          magnitude += Math.abs((double) x[b * in + i] * w[o * in + i]);
        }
        double expected = Math.max(acc, 0);
        positives += expected > 0 ? 1 : 0;
        assertEquals(expected, y[b * out + o], FLOAT_TOLERANCE * magnitude, "batch " + b + " output " + o);
      }
    }
    assertTrue(positives > 0 && positives < batch * out, "test data should exercise both sides of RELU");
  }

  @Test
  void floatFullyConnectedWithoutBias() {
    float[] w = {1, 2, 3, 4, 5, 6};
    float[] y = (float[]) TfliteTestModels.runInTflite(
        TfliteTestModels.floatFullyConnected(1, 3, 2, w, null, FusedActivation.NONE), new float[] {1, -1, 2})[0];
    assertArrayEquals(new float[] {1 - 2 + 6, 4 - 5 + 12}, y, 0f);
  }

  @Test
  void int8FullyConnectedRunsWithQuantizationParameters() {
    Random random = new Random(3);
    int in = 8;
    int out = 4;
    byte[] w = new byte[out * in];
    for (int i = 0; i < w.length; i++) {
      w[i] = (byte) (random.nextInt(255) - 127);
    }
    int[] bias = {100, -50, 0, 7};
    Int8FcParams p = new Int8FcParams(0.02f, -3, 0.01f, 0.05f, 5);
    TfliteModel model = TfliteTestModels.int8FullyConnected(2, in, out, w, bias, p);
    float[] x = randomFloats(random, 2 * in);
    try (TfliteRuntime rt = TfliteRuntime.create(TfliteWriter.write(model), 1)) {
      assertEquals(TensorType.FLOAT32, rt.inputType(0));
      assertArrayEquals(new int[] {2, in}, rt.inputShape(0));
      assertArrayEquals(new int[] {2, out}, rt.outputShape(0));
      float[] y = (float[]) rt.run(x)[0];
      // The output lies on the int8 grid of the output tensor: y = s * (q - z) with q in [-128, 127].
      for (float v : y) {
        double q = v / p.outputScale() + p.outputZeroPoint();
        assertEquals(Math.rint(q), q, 1e-3, "dequantized output " + v + " is on the output grid");
        assertTrue(q >= -128 && q <= 127);
      }
      // A float reference within one output step plus input rounding (this is not the bit-exact test; the
      // kernels' tests are).
      for (int b = 0; b < 2; b++) {
        for (int o = 0; o < out; o++) {
          double acc = bias[o] * p.inputScale() * p.weightScale();
          for (int i = 0; i < in; i++) {
            acc += x[b * in + i] * w[o * in + i] * p.weightScale();
          }
          double clamped = Math.max(-128 - p.outputZeroPoint(), Math.min(127 - p.outputZeroPoint(),
              acc / p.outputScale())) * p.outputScale();
          double inputRounding = in * 127 * p.weightScale() * p.inputScale() / 2;
          assertEquals(clamped, y[b * out + o], p.outputScale() + inputRounding, "batch " + b + " output " + o);
        }
      }
    }
  }

  @Test
  void int8Conv2DPerChannelExposesInt8IoParameters() {
    Random random = new Random(4);
    int[] inShape = {1, 5, 5, 2};
    int oc = 3;
    byte[] w = new byte[oc * 3 * 3 * 2];
    for (int i = 0; i < w.length; i++) {
      w[i] = (byte) (random.nextInt(255) - 127);
    }
    float[] scales = {0.01f, 0.02f, 0.005f};
    int[] bias = {10, -20, 30};
    TfliteModel model = TfliteTestModels.int8Conv2D(inShape, oc, 3, 3, w, scales, bias, 0.1f, 2, 0.5f, -1,
        Padding.VALID);
    try (TfliteRuntime rt = TfliteRuntime.create(TfliteWriter.write(model), 2)) {
      assertEquals(TensorType.INT8, rt.inputType(0));
      assertEquals(0.1f, rt.inputScale(0));
      assertEquals(2, rt.inputZeroPoint(0));
      assertEquals(0.5f, rt.outputScale(0));
      assertEquals(-1, rt.outputZeroPoint(0));
      assertArrayEquals(new int[] {1, 3, 3, 3}, rt.outputShape(0));
      byte[] x = new byte[50];
      random.nextBytes(x);
      byte[] y = (byte[]) rt.run(x)[0];
      assertEquals(27, y.length);
    }
  }

  /** float16 mode: FLOAT16 constant weights, DEQUANTIZE (v3) to float32, then FULLY_CONNECTED. */
  @Test
  void float16WeightsThroughDequantize() {
    TfliteModel.Builder b = TfliteModel.builder().description("float16 weights");
    int x = b.addTensor(TfliteTensor.activation("x", TensorType.FLOAT32, new int[] {1, 2}, null));
    // IEEE half bits: 1.0 = 0x3C00, 2.0 = 0x4000, -1.0 = 0xBC00, 0.5 = 0x3800.
    short[] half = {0x3C00, 0x4000, (short) 0xBC00, 0x3800};
    int w16 = b.addTensor(new TfliteTensor("w_fp16", TensorType.FLOAT16, new int[] {2, 2},
        TfliteTensor.littleEndian(half), null));
    int w = b.addTensor(TfliteTensor.activation("w", TensorType.FLOAT32, new int[] {2, 2}, null));
    int y = b.addTensor(TfliteTensor.activation("y", TensorType.FLOAT32, new int[] {1, 2}, null));
    b.addOperator(TfliteOperator.of(BuiltinOp.DEQUANTIZE, 3, new int[] {w16}, new int[] {w}, null));
    b.addOperator(TfliteOperator.of(BuiltinOp.FULLY_CONNECTED, 1, new int[] {x, w, -1}, new int[] {y},
        new OperatorOptions.FullyConnectedParams(FusedActivation.NONE, false, false)));
    TfliteModel model = b.inputs(x).outputs(y).build();
    assertTrue(ModelCheck.verify(model, BuiltinOpResolver.INSTANCE).isEmpty(), ModelCheck.verify(model, BuiltinOpResolver.INSTANCE).toString());
    float[] out = (float[]) TfliteTestModels.runInTflite(model, new float[] {3, 4})[0];
    assertArrayEquals(new float[] {3 * 1 + 4 * 2, 3 * -1 + 4 * 0.5f}, out, 0f);
    TfliteModelSummary summary = TfliteModelSummary.of(model, 0, BuiltinOpResolver.INSTANCE);
    assertEquals(8L, summary.bytesByKind().get("weights.float16"));
  }

  @Test
  void resizeBatchChangesInputAndOutputShapes() {
    float[] w = {1, 2, 3, 4, 5, 6};
    TfliteModel model = TfliteTestModels.floatFullyConnected(1, 3, 2, w, null, FusedActivation.NONE);
    try (TfliteRuntime rt = TfliteRuntime.create(TfliteWriter.write(model), 1)) {
      assertArrayEquals(new float[] {1, 4}, (float[]) rt.run(new float[] {1, 0, 0})[0], 0f);
      assertArrayEquals(new float[] {3, 6}, (float[]) rt.run(new float[] {0, 0, 1})[0], 0f); // buffers reused
      rt.resizeBatch(2);
      assertArrayEquals(new int[] {2, 3}, rt.inputShape(0));
      float[] y = (float[]) rt.run(new float[] {1, 0, 0, 0, 0, 1})[0];
      assertArrayEquals(new float[] {1, 4, 3, 6}, y, 0f);
      assertArrayEquals(new int[] {2, 2}, rt.outputShape(0));
      rt.resizeBatch(1);
      assertArrayEquals(new float[] {2, 5}, (float[]) rt.run(new float[] {0, 1, 0})[0], 0f);
    }
  }

  @Test
  void wrongInputArrayIsRejectedWithShape() {
    try (TfliteRuntime rt = TfliteRuntime.create(TfliteWriter.write(TfliteTestModels.floatAdd(new int[] {4})), 1)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> rt.run(new float[3], new float[4]));
      assertTrue(e.getMessage().contains("[4]"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> rt.run(new int[4], new float[4]));
    }
  }

  @Test
  void tfliteRejectionCarriesTfliteMessage() {
    TfliteModel model = TfliteTestModels.singleOp(BuiltinOp.ADD, 99, new OperatorOptions.AddParams(FusedActivation.NONE))
        .input("a", TensorType.FLOAT32, new int[] {2}, null)
        .input("b", TensorType.FLOAT32, new int[] {2}, null)
        .output("c", TensorType.FLOAT32, new int[] {2}, null)
        .build();
    TfliteRuntimeException e = assertThrows(TfliteRuntimeException.class,
        () -> TfliteRuntime.create(TfliteWriter.write(model), 1));
    assertTrue(e.getMessage().contains("ADD") && e.getMessage().contains("99"), e.getMessage());
  }

  static float[] randomFloats(Random random, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) random.nextGaussian();
    }
    return v;
  }
}
