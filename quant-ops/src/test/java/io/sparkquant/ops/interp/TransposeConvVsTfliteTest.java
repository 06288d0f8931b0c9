package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.Judge.biasQuantization;
import static io.sparkquant.ops.interp.Judge.floats;
import static io.sparkquant.ops.interp.Judge.int16s;
import static io.sparkquant.ops.interp.Judge.int32s;
import static io.sparkquant.ops.interp.Judge.int64s;
import static io.sparkquant.ops.interp.Judge.int8s;
import static io.sparkquant.ops.interp.Judge.logUniform;
import static io.sparkquant.ops.interp.Judge.perChannel;
import static io.sparkquant.ops.interp.Judge.q;
import static io.sparkquant.ops.interp.SubVsTfliteTest.assertRefused;

import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteTestModels;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * TRANSPOSE_CONV: random single-op models (SAME and VALID, strides 1-3, every output size the forward conv maps back
 * to the input size, batch 1-2, with and without bias), int8 per-channel and int16x8 exactly equal to TFLite 2.6.2,
 * float within tolerance.
 */
class TransposeConvVsTfliteTest {

  /** A random geometry: input [batch, h, w, cin], filter [cout, kh, kw, cin], output [batch, oh, ow, cout]. */
  private record Geo(int batch, int h, int w, int cin, int cout, int kh, int kw, int strideH, int strideW,
      Padding padding, int oh, int ow) {
    static Geo random(SplittableRandom rnd) {
      int h = rnd.nextInt(1, 7);
      int w = rnd.nextInt(1, 7);
      int kh = rnd.nextInt(1, 5);
      int kw = rnd.nextInt(1, 5);
      int sh = rnd.nextInt(1, 4);
      int sw = rnd.nextInt(1, 4);
      Padding padding = rnd.nextBoolean() ? Padding.SAME : Padding.VALID;
      return new Geo(rnd.nextInt(1, 3), h, w, rnd.nextInt(1, 6), rnd.nextInt(1, 6), kh, kw, sh, sw, padding,
          outputSize(rnd, padding, h, kh, sh), outputSize(rnd, padding, w, kw, sw));
    }

    /** An output size whose forward conv gives back {@code in}: SAME ceil(out / s), VALID ceil((out - k + 1) / s). */
    private static int outputSize(SplittableRandom rnd, Padding padding, int in, int k, int stride) {
      return padding == Padding.SAME ? rnd.nextInt((in - 1) * stride + 1, in * stride + 1)
          : rnd.nextInt((in - 1) * stride + k, in * stride + k);
    }

    int[] inShape() {
      return new int[] {batch, h, w, cin};
    }

    int[] outShape() {
      return new int[] {batch, oh, ow, cout};
    }

    int[] filterShape() {
      return new int[] {cout, kh, kw, cin};
    }
  }

  /** Inputs in TFLite's order: output_shape, filter, input[, bias]; {@code bias} null omits the fourth input. */
  private static TfliteModel transposeConv(Geo g, int version, TensorType type, TfliteQuantization inQ,
      TfliteTensor filter, TfliteTensor bias, TfliteQuantization outQ) {
    TfliteTestModels.SingleOp m = TfliteTestModels.singleOp(BuiltinOp.TRANSPOSE_CONV, version,
            new OperatorOptions.TransposeConvParams(g.padding, g.strideW, g.strideH, FusedActivation.NONE))
        .constant(TfliteTensor.constantInt32("output_shape", new int[] {4}, g.outShape(), null))
        .constant(filter)
        .input("x", type, g.inShape(), inQ);
    if (bias != null) {
      m.constant(bias);
    }
    return m.output("y", type, g.outShape(), outQ).build();
  }

  @Test
  void int8PerChannelIsBitExactWithAndWithoutBias() {
    for (int seed = 0; seed < 40; seed++) {
      SplittableRandom rnd = new SplittableRandom(25000 + seed);
      Geo g = Geo.random(rnd);
      float inScale = logUniform(rnd, 0.005, 0.1);
      float[] fScales = new float[g.cout];
      for (int c = 0; c < g.cout; c++) {
        fScales[c] = logUniform(rnd, 0.002, 0.05);
      }
      int taps = g.kh * g.kw * g.cin;
      float outScale = (float) (inScale * fScales[0] * Math.sqrt(taps) * logUniform(rnd, 30, 400));
      TfliteTensor filter = TfliteTensor.constantBytes("w", TensorType.INT8, g.filterShape(),
          int8s(rnd, g.cout * taps, -127, 127), perChannel(fScales, 0));
      boolean withBias = seed % 3 != 0;
      TfliteTensor bias = withBias ? TfliteTensor.constantInt32("b", new int[] {g.cout},
          int32s(rnd, g.cout, -3000, 3000), biasQuantization(inScale, fScales)) : null;
      TfliteModel m = transposeConv(g, withBias ? 3 : 2, TensorType.INT8, q(inScale, rnd.nextInt(-128, 128)),
          filter, bias, q(outScale, rnd.nextInt(-128, 128)));
      Judge.check("int8 seed " + seed + " " + g + " bias " + withBias, m,
          int8s(rnd, Judge.product(g.inShape()), -128, 127));
    }
  }

  @Test
  void int16x8IsBitExactWithAndWithoutBias() {
    for (int seed = 0; seed < 30; seed++) {
      SplittableRandom rnd = new SplittableRandom(26000 + seed);
      Geo g = Geo.random(rnd);
      float inScale = logUniform(rnd, 1e-4, 1e-3);
      float[] fScales = new float[g.cout];
      for (int c = 0; c < g.cout; c++) {
        fScales[c] = logUniform(rnd, 0.002, 0.05);
      }
      int taps = g.kh * g.kw * g.cin;
      float outScale = (float) (inScale * fScales[0] * Math.sqrt(taps) * logUniform(rnd, 1000, 30000));
      TfliteTensor filter = TfliteTensor.constantBytes("w", TensorType.INT8, g.filterShape(),
          int8s(rnd, g.cout * taps, -127, 127), perChannel(fScales, 0));
      boolean withBias = seed % 3 != 0;
      TfliteTensor bias = withBias ? TfliteTensor.constantInt64("b", new int[] {g.cout},
          int64s(rnd, g.cout, -300000, 300000), biasQuantization(inScale, fScales)) : null;
      TfliteModel m = transposeConv(g, 3, TensorType.INT16, q(inScale, 0), filter, bias, q(outScale, 0));
      Judge.check("int16x8 seed " + seed + " " + g + " bias " + withBias, m,
          int16s(rnd, Judge.product(g.inShape()), -32768, 32767));
    }
  }

  @Test
  void floatAgreesWithinToleranceWithAndWithoutBias() {
    for (int seed = 0; seed < 30; seed++) {
      SplittableRandom rnd = new SplittableRandom(27000 + seed);
      Geo g = Geo.random(rnd);
      int taps = g.kh * g.kw * g.cin;
      TfliteTensor filter = TfliteTensor.constantFloat32("w", g.filterShape(), floats(rnd, g.cout * taps, -1, 1));
      boolean withBias = seed % 3 != 0;
      TfliteTensor bias = withBias ? TfliteTensor.constantFloat32("b", new int[] {g.cout},
          floats(rnd, g.cout, -1, 1)) : null;
      TfliteModel m = transposeConv(g, withBias ? 3 : 1, TensorType.FLOAT32, null, filter, bias, null);
      Judge.check("float seed " + seed + " " + g + " bias " + withBias, m,
          floats(rnd, Judge.product(g.inShape()), -2, 2));
    }
  }

  @Test
  void prepareRefusesBadParametersNamingTheOperator() {
    Geo g = new Geo(1, 3, 3, 2, 4, 3, 3, 2, 2, Padding.SAME, 6, 6);
    TfliteTensor filter = TfliteTensor.constantBytes("w", TensorType.INT8, g.filterShape(), new byte[4 * 9 * 2],
        perChannel(new float[] {0.01f, 0.01f, 0.01f, 0.01f}, 0));
    TfliteTensor filter3 = TfliteTensor.constantBytes("w", TensorType.INT8, new int[] {3, 3, 3, 2},
        new byte[3 * 9 * 2], perChannel(new float[] {0.01f, 0.01f, 0.01f}, 0));
    String op = "operator 0 (TRANSPOSE_CONV)";
    assertRefused(TfliteTestModels.singleOp(BuiltinOp.TRANSPOSE_CONV, 3,
            new OperatorOptions.TransposeConvParams(Padding.SAME, 2, 2, FusedActivation.RELU))
        .constant(TfliteTensor.constantInt32("output_shape", new int[] {4}, g.outShape(), null)).constant(filter)
        .input("x", TensorType.INT8, g.inShape(), q(0.1f, 0)).output("y", TensorType.INT8, g.outShape(), q(0.1f, 0))
        .build(), op, "fused activation RELU");
    assertRefused(TfliteTestModels.singleOp(BuiltinOp.TRANSPOSE_CONV, 3,
            new OperatorOptions.TransposeConvParams(Padding.SAME, 0, 2, FusedActivation.NONE))
        .constant(TfliteTensor.constantInt32("output_shape", new int[] {4}, g.outShape(), null)).constant(filter)
        .input("x", TensorType.INT8, g.inShape(), q(0.1f, 0)).output("y", TensorType.INT8, g.outShape(), q(0.1f, 0))
        .build(), op, "must be positive");
    assertRefused(transposeConv(g, 2, TensorType.INT8, q(0.1f, 0), filter3, null, q(0.1f, 0)), op,
        "has depth 4, the filter");
    assertRefused(transposeConv(g, 3, TensorType.INT8, q(0.1f, 0), filter,
        TfliteTensor.constantInt32("b", new int[] {3}, new int[3], q(0.001f, 0)), q(0.1f, 0)), op,
        "expected 4 (one per output channel)");
    assertRefused(transposeConv(g, 3, TensorType.INT8, q(0.1f, 0), filter,
        TfliteTensor.constantInt32("b", new int[] {4}, new int[4], perChannel(new float[] {1, 1, 1, 1}, 0)),
        q(0.1f, 0)), op, "expected input scale x filter scale");
    Geo wrongDepth = new Geo(1, 3, 3, 3, 4, 3, 3, 2, 2, Padding.SAME, 6, 6);
    assertRefused(transposeConv(wrongDepth, 2, TensorType.INT8, q(0.1f, 0), filter, null, q(0.1f, 0)), op,
        "does not fit filter");
    assertRefused(TfliteTestModels.singleOp(BuiltinOp.TRANSPOSE_CONV, 3,
            new OperatorOptions.TransposeConvParams(Padding.SAME, 2, 2, FusedActivation.NONE))
        .input("s", TensorType.INT32, new int[] {4}, null).constant(filter)
        .input("x", TensorType.INT8, g.inShape(), q(0.1f, 0)).output("y", TensorType.INT8, g.outShape(), q(0.1f, 0))
        .build(), op, "must be a constant");
  }
}
