package io.sparkquant.ops.qat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.numerics.QuantParams;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The whole-array fake quantization equals the scalar definition, {@code p.dequantize(p.quantize(x, qmin, qmax))}
 * element by element, bit for bit (zeros' signs included): on random values inside and far outside the range, at
 * exact rounding ties {@code (k + 0.5) * scale} and one ulp either side of them, with zero points inside the range
 * and at both ends.
 */
class FakeQuantOpsTest {

  private static final int QMIN = -128;
  private static final int QMAX = 127;
  private static final int PER_KIND = 1000;

  /** Ranges with short scales (1/256, 1/128, 1/64, 3/512: exact ties representable) and arbitrary ones. */
  private static final float[][] RANGES = {
      {0f, 255f / 256f}, {-1f, 127f / 128f}, {-2f, 1.984375f}, {-0.75f, 0.744140625f},
      {-3f, 5f}, {-0.37f, 2.91f}, {1.5f, 7f}, {-6f, -0.5f}, {0f, 0f}};

  @Test
  void perTensorActivationEqualsTheScalarDefinitionBitForBit() {
    Random rnd = new Random(7);
    int shortScaleTies = 0;
    for (float[] range : RANGES) {
      QuantParams p = QuantParams.int8Activation(range[0], range[1]);
      float[] x = values(p.scale(), p.dequantize(QMIN), p.dequantize(QMAX), QMIN - p.zeroPoint(),
          QMAX - p.zeroPoint(), rnd);
      float[] expected = new float[x.length];
      for (int i = 0; i < x.length; i++) {
        expected[i] = p.dequantize(p.quantize(x[i], QMIN, QMAX));
      }
      for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
        INDArray a = Nd4j.createFromArray(x).reshape(4, x.length / 4).castTo(type);
        FakeQuantOps.fakeQuantizeInPlace(a, p, QMIN, QMAX);
        assertBitsEqual(expected, a.castTo(DataType.FLOAT).reshape(x.length).toFloatVector(),
            Arrays.toString(range) + " " + type);
      }
      shortScaleTies += ties(x, p.scale());
    }
    assertTrue(shortScaleTies >= 4 * PER_KIND, "exact ties tested: " + shortScaleTies);
  }

  @Test
  void perChannelAndPerTensorWeightsEqualTheScalarDefinitionBitForBit() {
    Random rnd = new Random(11);
    int channels = 6;
    int perChannel = 4 * PER_KIND + 8;
    float[][] byChannel = new float[channels][];
    for (int c = 0; c < channels; c++) {
      // channel c's largest |w| is 127 * 2^-(c+3), so its scale is 2^-(c+3) and ties are exact
      float scale = (float) Math.scalb(1.0, -(c + 3));
      byChannel[c] = values(scale, -127 * scale, 127 * scale, -127, 127, rnd);
      byChannel[c][0] = (c % 2 == 0 ? 127 : -127) * scale;
      for (int i = 1; i < perChannel; i++) { // values beyond +-127 * scale would change the scale: fold them in
        byChannel[c][i] = Float.isNaN(byChannel[c][i]) ? 0f
            : Math.max(-127 * scale, Math.min(127 * scale, byChannel[c][i]));
      }
    }
    for (int axis : new int[] {0, 1, -1}) {
      // axis 0: channel c is row c; axis 1: channel c is column c; -1: one scale for all
      float[] flat = new float[channels * perChannel];
      for (int c = 0; c < channels; c++) {
        for (int i = 0; i < perChannel; i++) {
          flat[axis == 1 ? i * channels + c : c * perChannel + i] = byChannel[c][i];
        }
      }
      INDArray w = axis == 1 ? Nd4j.createFromArray(flat).reshape(perChannel, channels)
          : Nd4j.createFromArray(flat).reshape(channels, perChannel);
      float[] absMax = FakeQuantOps.absMax(w, axis);
      float[] scales = new float[absMax.length];
      for (int c = 0; c < scales.length; c++) {
        scales[c] = QuantParams.int8WeightScale(absMax[c]);
      }
      float[] expected = new float[flat.length];
      for (int i = 0; i < flat.length; i++) {
        int c = axis == 1 ? i % channels : i / perChannel;
        float scale = axis < 0 ? QuantParams.int8WeightScale(127 * (float) Math.scalb(1.0, -3))
            : QuantParams.int8WeightScale(127 * (float) Math.scalb(1.0, -(c + 3)));
        QuantParams p = new QuantParams(scale, 0);
        expected[i] = p.dequantize(p.quantize(flat[i], -127, 127));
      }
      assertEquals(axis < 0 ? 1 : channels, scales.length);
      float[] actual = FakeQuantOps.fakeQuantizeSymmetric(w, axis, scales, -127, 127).reshape(flat.length)
          .toFloatVector();
      assertBitsEqual(expected, actual, "channel axis " + axis);
    }
  }

  @Test
  void passMaskIsOneExactlyInsideTheClosedRange() {
    float lo = -0.5f;
    float hi = 0.75f;
    float[] x = {lo, hi, Math.nextDown(lo), Math.nextUp(lo), Math.nextDown(hi), Math.nextUp(hi), 0f, -0f,
        Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -3f, 3f, 0.1f};
    float[] expected = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      expected[i] = x[i] >= lo && x[i] <= hi ? 1f : 0f;
    }
    assertBitsEqual(expected, FakeQuantOps.passMask(Nd4j.createFromArray(x), lo, hi).toFloatVector(), "mask");
  }

  /**
   * {@link #PER_KIND} values each: uniform over three times the representable range {@code [lo, hi]}, exact ties
   * {@code (k + 0.5) * scale} for k from 20 below to 20 above the integer range {@code [kmin, kmax]}, and one ulp
   * below and above such ties; then zeros of both signs, small negatives that round to -0, the range ends, NaN.
   */
  private static float[] values(float scale, float lo, float hi, int kmin, int kmax, Random rnd) {
    float[] x = new float[4 * PER_KIND + 8];
    float width = hi - lo;
    for (int i = 0; i < PER_KIND; i++) {
      x[i] = lo - width + 3 * width * rnd.nextFloat();
      int k = kmin - 20 + rnd.nextInt(kmax - kmin + 41);
      float tie = (float) ((k + 0.5) * scale);
      x[PER_KIND + i] = tie;
      x[2 * PER_KIND + i] = Math.nextDown(tie);
      x[3 * PER_KIND + i] = Math.nextUp(tie);
    }
    float[] special = {0f, -0f, -0.3f * scale, -0.5f * scale, 0.5f * scale, lo, hi, Float.NaN};
    System.arraycopy(special, 0, x, 4 * PER_KIND, special.length);
    return x;
  }

  private static int ties(float[] x, float scale) {
    int n = 0;
    for (float v : x) {
      double q = v / (double) scale;
      n += q - Math.floor(q) == 0.5 ? 1 : 0;
    }
    return n;
  }

  private static void assertBitsEqual(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
        throw new AssertionError(what + ": element " + i + " expected " + expected[i] + " got " + actual[i]);
      }
    }
  }
}
