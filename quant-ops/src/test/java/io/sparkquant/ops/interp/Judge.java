package io.sparkquant.ops.interp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteWriter;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Runs a model in the real TFLite 2.6.2 runtime and in {@link Interpreter} and compares: integer
 * outputs exactly, float outputs within a named tolerance. Also random tensor helpers for the tests.
 */
public final class Judge {

  /** Float kernels sum in a different order than TFLite's Eigen/ruy GEMMs: relative to the output's scale. */
  static final float FLOAT_RELATIVE_TOLERANCE = 1e-5f;
  /** Hybrid kernels: exact integer dot products, float scaling in a possibly different association. */
  static final float HYBRID_RELATIVE_TOLERANCE = 1e-6f;

  private Judge() {}

  public static Object[] tflite(TfliteModel model, int batch, Object... inputs) {
    try (TfliteRuntime runtime = TfliteRuntime.create(TfliteWriter.write(model), 1)) {
      if (batch != runtime.inputShape(0)[0]) {
        runtime.resizeBatch(batch);
      }
      return runtime.run(inputs);
    }
  }

  /** Runs both and asserts agreement on every output; returns the interpreter's outputs. */
  public static Object[] check(String context, TfliteModel model, Object... inputs) {
    return checkWithin(context, model, FLOAT_RELATIVE_TOLERANCE, inputs);
  }

  public static Object[] checkWithin(String context, TfliteModel model, float floatTolerance, Object... inputs) {
    // the model goes through the flatbuffer writer and reader, as models from files do
    TfliteModel read = TfliteReader.read(TfliteWriter.write(model));
    Interpreter interpreter = new Interpreter(read);
    Object[] ours = interpreter.run(inputs);
    int perSample = 1;
    int[] declared = model.tensor(model.inputs()[0]).shape();
    for (int d = 1; d < declared.length; d++) {
      perSample *= declared[d];
    }
    int batch = java.lang.reflect.Array.getLength(inputs[0]) / perSample;
    Object[] theirs = tflite(model, batch, inputs);
    assertEquals(theirs.length, ours.length, context + ": output count");
    for (int i = 0; i < ours.length; i++) {
      compare(context + ", output " + i, theirs[i], ours[i], floatTolerance);
    }
    return ours;
  }

  public static void compare(String context, Object expected, Object actual, float floatTolerance) {
    if (expected instanceof byte[] e) {
      assertArrayEquals(e, (byte[]) actual, context);
    } else if (expected instanceof short[] e) {
      assertArrayEquals(e, (short[]) actual, context);
    } else if (expected instanceof int[] e) {
      assertArrayEquals(e, (int[]) actual, context);
    } else if (expected instanceof float[] e) {
      float[] a = (float[]) actual;
      assertEquals(e.length, a.length, context + ": length");
      float maxAbs = 1e-30f;
      for (float v : e) {
        maxAbs = Math.max(maxAbs, Math.abs(v));
      }
      for (int i = 0; i < e.length; i++) {
        if (!(Math.abs(e[i] - a[i]) <= floatTolerance * maxAbs)) {
          fail(context + ": element " + i + " expected " + e[i] + " got " + a[i] + (e.length <= 64 ? "\n" + Arrays.toString(e) + "\n" + Arrays.toString(a) : "") + " (tolerance "
              + floatTolerance + " x max|out| " + maxAbs + ")");
        }
      }
    } else {
      fail(context + ": unexpected output type " + expected.getClass());
    }
  }

  // ------------------------------------------------------------------------ random data and tensors

  public static byte[] int8s(SplittableRandom rnd, int n, int lo, int hi) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) rnd.nextInt(lo, hi + 1);
    }
    return b;
  }

  public static short[] int16s(SplittableRandom rnd, int n, int lo, int hi) {
    short[] b = new short[n];
    for (int i = 0; i < n; i++) {
      b[i] = (short) rnd.nextInt(lo, hi + 1);
    }
    return b;
  }

  public static int[] int32s(SplittableRandom rnd, int n, int lo, int hi) {
    int[] b = new int[n];
    for (int i = 0; i < n; i++) {
      b[i] = rnd.nextInt(lo, hi + 1);
    }
    return b;
  }

  public static long[] int64s(SplittableRandom rnd, int n, long lo, long hi) {
    long[] b = new long[n];
    for (int i = 0; i < n; i++) {
      b[i] = rnd.nextLong(lo, hi + 1);
    }
    return b;
  }

  public static float[] floats(SplittableRandom rnd, int n, double lo, double hi) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
    }
    return f;
  }

  public static float uniform(SplittableRandom rnd, double lo, double hi) {
    return (float) (lo + (hi - lo) * rnd.nextDouble());
  }

  public static float logUniform(SplittableRandom rnd, double lo, double hi) {
    return (float) Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * rnd.nextDouble());
  }

  /**
   * {@code scale} rounded to a 7-bit significand, so that {@code (k + 1/2) * scale} (at most 17 + 7 significant
   * bits for |k| < 2^16) is a float: that {@code x} divided by the scale is exactly {@code k + 1/2}, a rounding tie
   * for QUANTIZE whether it divides in float or in double.
   */
  public static float shortSignificand(float scale) {
    int exponent = Math.getExponent(scale);
    return Math.scalb((float) Math.rint(Math.scalb(scale, 6 - exponent)), exponent - 6);
  }

  public static TfliteQuantization q(float scale, int zeroPoint) {
    return TfliteQuantization.perTensor(scale, zeroPoint);
  }

  public static TfliteQuantization perChannel(float[] scales, int dimension) {
    return new TfliteQuantization(scales.clone(), new long[scales.length], dimension);
  }

  /** Bias scales inputScale * filterScale[c] as the converter writes them. */
  public static TfliteQuantization biasQuantization(float inputScale, float[] filterScales) {
    float[] s = new float[filterScales.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = (float) ((double) inputScale * filterScales[i]);
    }
    return new TfliteQuantization(s, new long[s.length], 0);
  }

  public static TfliteTensor constantInt16(String name, TensorType type, int[] shape, short[] values,
      TfliteQuantization q) {
    ByteBuffer bb = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short v : values) {
      bb.putShort(v);
    }
    return new TfliteTensor(name, type, shape, bb.array(), q);
  }

  public static int product(int... dims) {
    return Arrays.stream(dims).reduce(1, (a, b) -> a * b);
  }
}
