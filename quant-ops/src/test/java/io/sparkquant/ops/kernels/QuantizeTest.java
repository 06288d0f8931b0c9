package io.sparkquant.ops.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.interp.FloatIo;
import io.sparkquant.ops.numerics.FixedPoint;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteTestModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Quantize#affineQuantize} (float QUANTIZE) against the real TFLite 2.6.2 runtime, bit for bit, on
 * inputs at exact rounding ties ({@code x / scale = k + 0.5} exactly, with a power-of-two scale) and on the
 * floats either side of a tie for scales that are not powers of two, where dividing in float instead of
 * double lands on the other side. Each case also checks that its inputs can tell the alternatives apart.
 * {@link FloatIo#fromFloats}, which feeds float data to models with int8/int16 inputs, must agree with it.
 */
class QuantizeTest {

  /** Power-of-two scales make {@code (k + 0.5) * scale} and its quotient exact: true ties. */
  private static final float[] EXACT_TIE_SCALES = {0.5f, 1f / 16, 1f / 128, 1f / 1024};
  private static final float[] OTHER_SCALES = {0.1f, 0.0372f, 1f / 3, 0.007f, 3.3e-4f};

  @Test
  void floatToInt8IsBitExactAtTiesAndTheirNeighbours() {
    for (int zeroPoint : new int[] {0, -3, 17}) {
      checkAgainstTflite(TensorType.INT8, zeroPoint, -128, 127);
    }
  }

  @Test
  void floatToInt16IsBitExactAtTiesAndTheirNeighbours() {
    checkAgainstTflite(TensorType.INT16, 0, -32768, 32767);
  }

  private static void checkAgainstTflite(TensorType type, int zeroPoint, int qmin, int qmax) {
    int halfUpDiffers = 0;
    int floatDivisionDiffers = 0;
    for (float scale : concat(EXACT_TIE_SCALES, OTHER_SCALES)) {
      float[] x = tiesAndNeighbours(scale, 60);
      int exactTies = 0;
      for (float v : x) {
        double quotient = v / (double) scale;
        exactTies += quotient - Math.floor(quotient) == 0.5 ? 1 : 0;
        long halfAway = FixedPoint.roundHalfAwayFromZero(quotient);
        halfUpDiffers += halfAway != (long) Math.floor(quotient + 0.5) ? 1 : 0;
        floatDivisionDiffers += halfAway != FixedPoint.roundHalfAwayFromZero(v / scale) ? 1 : 0;
      }
      if (isPowerOfTwo(scale)) {
        assertTrue(exactTies >= 100, "scale " + scale + " gives only " + exactTies + " exact ties");
      }
      TfliteModel model = TfliteTestModels.singleOp(BuiltinOp.QUANTIZE, type == TensorType.INT16 ? 2 : 1, null)
          .input("x", TensorType.FLOAT32, new int[] {x.length}, null)
          .output("y", type, new int[] {x.length}, TfliteQuantization.perTensor(scale, zeroPoint)).build();
      Object expected = TfliteTestModels.runInTflite(model, (Object) x)[0];
      String context = type + " scale " + scale + " zero point " + zeroPoint;
      Object viaFloatIo = FloatIo.fromFloats(TfliteTensor.activation("y", type, new int[] {x.length},
          TfliteQuantization.perTensor(scale, zeroPoint)), x);
      if (type == TensorType.INT8) {
        byte[] actual = new byte[x.length];
        Quantize.affineQuantize(x, scale, zeroPoint, qmin, qmax, actual);
        assertArrayEquals((byte[]) expected, actual, context);
        assertArrayEquals((byte[]) expected, (byte[]) viaFloatIo, context + " (FloatIo)");
      } else {
        short[] actual = new short[x.length];
        Quantize.affineQuantize(x, scale, zeroPoint, qmin, qmax, actual);
        assertArrayEquals((short[]) expected, actual, context);
        assertArrayEquals((short[]) expected, (short[]) viaFloatIo, context + " (FloatIo)");
      }
    }
    // the inputs separate half-away-from-zero from half-up (negative ties) and double from float division
    assertTrue(halfUpDiffers > 0, "no input separates rounding half away from zero from half up");
    assertTrue(floatDivisionDiffers > 0, "no input separates double from float division");
  }

  /** {@code (k + 0.5) * scale} rounded to float for k in [-n, n), and the next float down and up from each. */
  private static float[] tiesAndNeighbours(float scale, int n) {
    List<Float> values = new ArrayList<>();
    for (int k = -n; k < n; k++) {
      float tie = (float) ((k + 0.5) * scale);
      values.add(Math.nextDown(tie));
      values.add(tie);
      values.add(Math.nextUp(tie));
    }
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  private static boolean isPowerOfTwo(float scale) {
    return scale == Math.scalb(1f, Math.getExponent(scale));
  }

  private static float[] concat(float[] a, float[] b) {
    float[] out = new float[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
