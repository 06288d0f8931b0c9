package io.sparkquant.ops.numerics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.interp.Judge;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTestModels;
import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QuantParamsTest {

  /**
   * Each value at and next to a half step, int8 and int16, against TFLite's QUANTIZE. The scales are rounded to a
   * 7-bit significand so that {@code (k + 1/2) * scale} (17 bits for |k| < 2^16) is a float: such an {@code x}
   * divided by the scale is exactly {@code k + 1/2}, where half away from zero and Java's round-half-up differ for
   * negative {@code k}. The neighbours one ulp away are where a float division would round differently.
   */
  @Test
  void quantizeMatchesTheRuntimeQuantizeOpIncludingTies() {
    SplittableRandom rnd = new SplittableRandom(31);
    int exactTies = 0;
    int negativeTies = 0;
    for (int seed = 0; seed < 8; seed++) {
      boolean int16 = seed % 2 == 1;
      float min = (float) -rnd.nextDouble(0.1, 5);
      float max = (float) rnd.nextDouble(0.1, 5);
      QuantParams chosen = int16 ? QuantParams.int16Activation(min, max) : QuantParams.int8Activation(min, max);
      QuantParams p = new QuantParams(Judge.shortSignificand(chosen.scale()), chosen.zeroPoint());
      int qmin = int16 ? -32768 : -128;
      int qmax = int16 ? 32767 : 127;
      float[] x = new float[300];
      for (int i = 0; i < x.length; i++) {
        int k = rnd.nextInt(qmin - p.zeroPoint() - 10, qmax - p.zeroPoint() + 10); // a few saturate
        float tie = (float) ((k + 0.5) * p.scale());
        if (i % 3 == 0) {
          assertEquals(0, new BigDecimal(tie).compareTo(new BigDecimal(k + 0.5).multiply(new BigDecimal(p.scale()))),
              "not a tie: " + tie + " / " + p.scale());
          if (tie / (double) p.scale() == k + 0.5) {
            exactTies++;
            negativeTies += k < 0 ? 1 : 0;
          }
        }
        x[i] = i % 3 == 0 ? tie : i % 3 == 1 ? Math.nextUp(tie) : Math.nextDown(tie);
      }
      TfliteModel quantize = TfliteTestModels.singleOp(BuiltinOp.QUANTIZE, 1, null)
          .input("x", TensorType.FLOAT32, new int[] {1, x.length}, null)
          .output("y", int16 ? TensorType.INT16 : TensorType.INT8, new int[] {1, x.length},
              TfliteQuantization.perTensor(p.scale(), p.zeroPoint())).build();
      Object fromRuntime = TfliteTestModels.runInTflite(quantize, (Object) x)[0];
      int[] actual = new int[x.length];
      int[] runtime = new int[x.length];
      for (int i = 0; i < x.length; i++) {
        actual[i] = p.quantize(x[i], qmin, qmax);
        runtime[i] = int16 ? ((short[]) fromRuntime)[i] : ((byte[]) fromRuntime)[i];
      }
      assertArrayEquals(runtime, actual, "params " + p);
    }
    assertEquals(8 * 100, exactTies, "every third value is an exact tie in quantize's double division");
    assertTrue(negativeTies >= 300, "negative ties, where rounding half up would differ: " + negativeTies);
  }

  @Test
  void activationRangeIsExtendedToZeroAndZeroPointClamped() {
    QuantParams positive = QuantParams.int8Activation(2f, 6f); // extended to [0, 6]
    assertEquals(6f / 255, positive.scale(), 1e-9);
    assertEquals(-128, positive.zeroPoint());
    assertEquals(0f, positive.dequantize(positive.zeroPoint()));
    QuantParams negative = QuantParams.int8Activation(-4f, -1f); // extended to [-4, 0]
    assertEquals(127, negative.zeroPoint());
    QuantParams symmetric = QuantParams.int8Activation(-1f, 1f);
    assertTrue(Math.abs(symmetric.dequantize(-128) + 1f) < symmetric.scale());
    assertTrue(Math.abs(symmetric.dequantize(127) - 1f) < symmetric.scale());
  }

  @Test
  void degenerateAndInvalidRangesFollowTheDocumentedRule() {
    QuantParams zero = QuantParams.int8Activation(0f, 0f);
    assertEquals(QuantParams.MIN_SCALE, zero.scale(), "all-zero tensor: the scale floor, never 1.0");
    assertEquals(0, zero.quantize(0f, -128, 127) - zero.zeroPoint());
    assertThrows(IllegalArgumentException.class, () -> QuantParams.int8Activation(1f, -1f));
    assertThrows(IllegalArgumentException.class, () -> QuantParams.int8Activation(Float.NaN, 1f));
    assertThrows(IllegalArgumentException.class, () -> QuantParams.int16Activation(0f, Float.POSITIVE_INFINITY));
    assertThrows(IllegalArgumentException.class, () -> QuantParams.int8WeightScale(-1f));
  }

  @Test
  void int16AndWeightParametersAreSymmetric() {
    QuantParams p = QuantParams.int16Activation(-3f, 2f);
    assertEquals(0, p.zeroPoint());
    assertEquals(3f / 32767, p.scale(), 1e-12);
    assertEquals(32767, p.quantize(3f, -32768, 32767));
    assertEquals(-32767, p.quantize(-3f, -32768, 32767));
    assertEquals(0.5f / 127, QuantParams.int8WeightScale(0.5f), 1e-12);
    // ties round half away from zero, not up as Math.round does
    QuantParams unit = new QuantParams(1f, 0);
    assertEquals(-3, unit.quantize(-2.5f, -128, 127));
    assertEquals(3, unit.quantize(2.5f, -128, 127));
    assertEquals(-128, unit.quantize(-1e9f, -128, 127));
  }
}
