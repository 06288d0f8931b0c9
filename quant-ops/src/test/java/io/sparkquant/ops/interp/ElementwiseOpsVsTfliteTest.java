package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.Judge.floats;
import static io.sparkquant.ops.interp.Judge.int16s;
import static io.sparkquant.ops.interp.Judge.int8s;
import static io.sparkquant.ops.interp.Judge.logUniform;
import static io.sparkquant.ops.interp.Judge.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.numerics.FixedPoint;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteTestModels;
import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Pools, MEAN, ADD, RESHAPE, SOFTMAX, LOGISTIC, TANH, QUANTIZE, DEQUANTIZE: random single-op models,
 * TFLite 2.6.2 against {@link Interpreter}; integer outputs exactly equal, float within tolerance.
 */
class ElementwiseOpsVsTfliteTest {

  private static final FusedActivation[] ACTIVATIONS = {FusedActivation.NONE, FusedActivation.RELU, FusedActivation.RELU6};

  private static TfliteModel pool(BuiltinOp op, TensorType type, TfliteQuantization qp, int[] inShape, Padding pad,
      int stride, int fh, int fw, FusedActivation act) {
    int oh = pad.outputSize(inShape[1], fh, stride, 1);
    int ow = pad.outputSize(inShape[2], fw, stride, 1);
    return TfliteTestModels.singleOp(op, type == TensorType.INT16 ? 3 : 2,
            new OperatorOptions.PoolParams(pad, stride, stride, fw, fh, act))
        .input("x", type, inShape, qp)
        .output("y", type, new int[] {inShape[0], oh, ow, inShape[3]}, qp).build();
  }

  @Test
  void poolsAreBitExactForInt8AndInt16AndCloseForFloat() {
    for (int seed = 0; seed < 30; seed++) {
      SplittableRandom rnd = new SplittableRandom(7000 + seed);
      int[] inShape = {rnd.nextInt(1, 4), rnd.nextInt(2, 10), rnd.nextInt(2, 10), rnd.nextInt(1, 6)};
      Padding pad = rnd.nextBoolean() ? Padding.SAME : Padding.VALID;
      int stride = rnd.nextInt(1, 3);
      int fh = rnd.nextInt(1, Math.min(4, inShape[1] + 1));
      int fw = rnd.nextInt(1, Math.min(4, inShape[2] + 1));
      FusedActivation act = ACTIVATIONS[rnd.nextInt(ACTIVATIONS.length)];
      BuiltinOp op = seed % 2 == 0 ? BuiltinOp.AVERAGE_POOL_2D : BuiltinOp.MAX_POOL_2D;
      String ctx = op + " seed " + seed + " " + java.util.Arrays.toString(inShape) + " " + pad + " stride " + stride
          + " filter " + fh + "x" + fw + " " + act;
      int n = Judge.product(inShape);
      TfliteQuantization q8 = q(logUniform(rnd, 0.005, 0.1), rnd.nextInt(-100, 101));
      Judge.check(ctx + " int8", pool(op, TensorType.INT8, q8, inShape, pad, stride, fh, fw, act),
          int8s(rnd, n, -128, 127));
      TfliteQuantization q16 = q(logUniform(rnd, 1e-4, 1e-3), 0);
      Judge.check(ctx + " int16", pool(op, TensorType.INT16, q16, inShape, pad, stride, fh, fw, act),
          int16s(rnd, n, -32768, 32767));
      Judge.check(ctx + " float", pool(op, TensorType.FLOAT32, null, inShape, pad, stride, fh, fw, act),
          floats(rnd, n, -8, 8));
    }
  }

  @Test
  void meanMatchesTheRuntimeOnEveryInt8AndInt16Path() {
    for (int seed = 0; seed < 24; seed++) {
      SplittableRandom rnd = new SplittableRandom(8000 + seed);
      int[] inShape = {rnd.nextInt(1, 4), rnd.nextInt(1, 9), rnd.nextInt(1, 9), rnd.nextInt(1, 12)};
      boolean keepDims = seed % 2 == 0;
      boolean sameParams = seed % 3 == 0;
      int[] axes = seed % 4 == 3 ? new int[] {2, 1} : new int[] {1, 2};
      float inScale = logUniform(rnd, 0.005, 0.1);
      int inZp = rnd.nextInt(-100, 101);
      TfliteQuantization inQ = q(inScale, inZp);
      TfliteQuantization outQ = sameParams ? inQ : q(inScale * Judge.uniform(rnd, 0.3, 1.5), rnd.nextInt(-100, 101));
      int[] outShape = keepDims ? new int[] {inShape[0], 1, 1, inShape[3]} : new int[] {inShape[0], inShape[3]};
      String ctx = "mean seed " + seed + " " + java.util.Arrays.toString(inShape) + " keepDims " + keepDims
          + " sameParams " + sameParams;
      TfliteModel int8 = TfliteTestModels.singleOp(BuiltinOp.MEAN, 2, new OperatorOptions.ReducerParams(keepDims))
          .input("x", TensorType.INT8, inShape, inQ)
          .constant(TfliteTensor.constantInt32("axes", new int[] {2}, axes, null))
          .output("y", TensorType.INT8, outShape, outQ).build();
      Judge.check(ctx + " int8", int8, int8s(rnd, Judge.product(inShape), -128, 127));
      float in16Scale = logUniform(rnd, 1e-4, 1e-3);
      TfliteModel int16 = TfliteTestModels.singleOp(BuiltinOp.MEAN, 3, new OperatorOptions.ReducerParams(keepDims))
          .input("x", TensorType.INT16, inShape, q(in16Scale, 0))
          .constant(TfliteTensor.constantInt32("axes", new int[] {2}, axes, null))
          .output("y", TensorType.INT16, outShape, q(sameParams ? in16Scale : in16Scale * Judge.uniform(rnd, 0.3, 1.5),
              0)).build();
      Judge.check(ctx + " int16", int16, int16s(rnd, Judge.product(inShape), -32768, 32767));
      TfliteModel fl = TfliteTestModels.singleOp(BuiltinOp.MEAN, 1, new OperatorOptions.ReducerParams(keepDims))
          .input("x", TensorType.FLOAT32, inShape, null)
          .constant(TfliteTensor.constantInt32("axes", new int[] {2}, axes, null))
          .output("y", TensorType.FLOAT32, outShape, null).build();
      Judge.check(ctx + " float", fl, floats(rnd, Judge.product(inShape), -4, 4));
    }
  }

  @Test
  void addIsBitExactWithBroadcastingAndActivations() {
    for (int seed = 0; seed < 30; seed++) {
      SplittableRandom rnd = new SplittableRandom(9000 + seed);
      int[] shape = {rnd.nextInt(1, 4), rnd.nextInt(1, 6), rnd.nextInt(1, 6), rnd.nextInt(1, 8)};
      int[] shape2 = seed % 3 == 2 ? new int[] {1, 1, 1, shape[3]} : shape;
      FusedActivation act = ACTIVATIONS[rnd.nextInt(ACTIVATIONS.length)];
      String ctx = "add seed " + seed + " " + java.util.Arrays.toString(shape) + " + "
          + java.util.Arrays.toString(shape2) + " " + act;
      TfliteModel int8 = TfliteTestModels.singleOp(BuiltinOp.ADD, 2, new OperatorOptions.AddParams(act))
          .input("a", TensorType.INT8, shape, q(logUniform(rnd, 0.005, 0.1), rnd.nextInt(-100, 101)))
          .input("b", TensorType.INT8, shape2, q(logUniform(rnd, 0.005, 0.1), rnd.nextInt(-100, 101)))
          .output("y", TensorType.INT8, shape, q(logUniform(rnd, 0.01, 0.2), rnd.nextInt(-100, 101))).build();
      Judge.check(ctx + " int8", int8, int8s(rnd, Judge.product(shape), -128, 127),
          int8s(rnd, Judge.product(shape2), -128, 127));
      // int16: general (non power-of-two) scales, zero points 0
      TfliteModel int16 = TfliteTestModels.singleOp(BuiltinOp.ADD, 3, new OperatorOptions.AddParams(act))
          .input("a", TensorType.INT16, shape, q(logUniform(rnd, 1e-4, 1e-3) * 1.1f, 0))
          .input("b", TensorType.INT16, shape2, q(logUniform(rnd, 1e-4, 1e-3) * 1.1f, 0))
          .output("y", TensorType.INT16, shape, q(logUniform(rnd, 2e-4, 2e-3) * 1.1f, 0)).build();
      Judge.check(ctx + " int16", int16, int16s(rnd, Judge.product(shape), -32768, 32767),
          int16s(rnd, Judge.product(shape2), -32768, 32767));
      TfliteModel fl = TfliteTestModels.singleOp(BuiltinOp.ADD, 1, new OperatorOptions.AddParams(act))
          .input("a", TensorType.FLOAT32, shape, null)
          .input("b", TensorType.FLOAT32, shape2, null)
          .output("y", TensorType.FLOAT32, shape, null).build();
      Judge.check(ctx + " float", fl, floats(rnd, Judge.product(shape), -4, 4),
          floats(rnd, Judge.product(shape2), -4, 4));
    }
  }

  @Test
  void softmaxLogisticTanhAreBitExactForInt8AndSoftmaxForInt16() {
    for (int seed = 0; seed < 30; seed++) {
      SplittableRandom rnd = new SplittableRandom(10000 + seed);
      int batch = rnd.nextInt(1, 5);
      int depth = rnd.nextInt(1, 40);
      int[] shape = {batch, depth};
      float inScale = logUniform(rnd, 0.01, 0.5);
      int inZp = rnd.nextInt(-128, 128);
      float beta = seed % 3 == 0 ? 1f : Judge.uniform(rnd, 0.3, 2.0);
      byte[] x = int8s(rnd, batch * depth, -128, 127);
      String ctx = "seed " + seed + " " + batch + "x" + depth + " scale " + inScale + " zp " + inZp;
      TfliteModel softmax = TfliteTestModels.singleOp(BuiltinOp.SOFTMAX, 2, new OperatorOptions.SoftmaxParams(beta))
          .input("x", TensorType.INT8, shape, q(inScale, inZp))
          .output("y", TensorType.INT8, shape, q(1f / 256, -128)).build();
      Judge.check("softmax int8 beta " + beta + " " + ctx, softmax, x);
      TfliteModel logistic = TfliteTestModels.singleOp(BuiltinOp.LOGISTIC, 2, null)
          .input("x", TensorType.INT8, shape, q(inScale, inZp))
          .output("y", TensorType.INT8, shape, q(1f / 256, -128)).build();
      Judge.check("logistic int8 " + ctx, logistic, x);
      TfliteModel tanh = TfliteTestModels.singleOp(BuiltinOp.TANH, 2, null)
          .input("x", TensorType.INT8, shape, q(inScale, inZp))
          .output("y", TensorType.INT8, shape, q(1f / 128, 0)).build();
      Judge.check("tanh int8 " + ctx, tanh, x);

      float in16Scale = logUniform(rnd, 1e-4, 1e-2);
      TfliteModel softmax16 = TfliteTestModels.singleOp(BuiltinOp.SOFTMAX, 3, new OperatorOptions.SoftmaxParams(beta))
          .input("x", TensorType.INT16, shape, q(in16Scale, 0))
          .output("y", TensorType.INT16, shape, q(1f / 32768, 0)).build();
      Judge.check("softmax int16 beta " + beta + " scale " + in16Scale, softmax16,
          int16s(rnd, batch * depth, -32768, 32767));

      float[] xf = floats(rnd, batch * depth, -6, 6);
      Judge.check("softmax float " + ctx, TfliteTestModels.singleOp(BuiltinOp.SOFTMAX, 1,
              new OperatorOptions.SoftmaxParams(beta)).input("x", TensorType.FLOAT32, shape, null)
          .output("y", TensorType.FLOAT32, shape, null).build(), xf);
      Judge.check("logistic float " + ctx, TfliteTestModels.singleOp(BuiltinOp.LOGISTIC, 1, null)
          .input("x", TensorType.FLOAT32, shape, null).output("y", TensorType.FLOAT32, shape, null).build(), xf);
      Judge.check("tanh float " + ctx, TfliteTestModels.singleOp(BuiltinOp.TANH, 1, null)
          .input("x", TensorType.FLOAT32, shape, null).output("y", TensorType.FLOAT32, shape, null).build(), xf);
    }
  }

  /**
   * Float QUANTIZE to int8 and int16 next to and at rounding ties, and int8 requantization. Each scale is used twice:
   * as drawn, where {@code (float) ((k + 1/2) * scale)} is only near a tie and the floats either side of it are
   * where float and double division round differently; and rounded to a 7-bit significand
   * ({@link Judge#shortSignificand}), where it is a float whose quotient in the runtime's double division is exactly
   * {@code k + 1/2}: at negative ties rounding half away from zero (TFLite) and half up ({@code Math.round}) differ.
   */
  @Test
  void quantizeIsBitExactIncludingRoundingTies() {
    TieCount int8Ties = new TieCount();
    TieCount int16Ties = new TieCount();
    int n = 400;
    int[] shape = {1, n};
    for (int seed = 0; seed < 20; seed++) {
      SplittableRandom rnd = new SplittableRandom(11000 + seed);
      float drawnScale = logUniform(rnd, 0.001, 0.2);
      int zp = rnd.nextInt(-100, 101);
      for (float scale : new float[] {drawnScale, Judge.shortSignificand(drawnScale)}) {
        float[] x = tiesAndNeighbours(rnd, scale, 140, n);
        int8Ties.count(x, scale, zp, -128, 127);
        Judge.check("quantize float->int8 seed " + seed + " scale " + scale, TfliteTestModels
            .singleOp(BuiltinOp.QUANTIZE, 1, null).input("x", TensorType.FLOAT32, shape, null)
            .output("y", TensorType.INT8, shape, q(scale, zp)).build(), x);
      }
      for (float scale : new float[] {drawnScale / 200, Judge.shortSignificand(drawnScale / 200)}) {
        float[] x = tiesAndNeighbours(rnd, scale, 33000, n); // a few beyond +-32768 saturate
        int16Ties.count(x, scale, 0, -32768, 32767);
        Judge.check("quantize float->int16 seed " + seed + " scale " + scale, TfliteTestModels
            .singleOp(BuiltinOp.QUANTIZE, 1, null).input("x", TensorType.FLOAT32, shape, null)
            .output("y", TensorType.INT16, shape, q(scale, 0)).build(), x);
      }
      Judge.check("requantize int8->int8 seed " + seed, TfliteTestModels
          .singleOp(BuiltinOp.QUANTIZE, 2, null).input("x", TensorType.INT8, shape, q(drawnScale, zp))
          .output("y", TensorType.INT8, shape, q(drawnScale * Judge.uniform(rnd, 0.5, 2), rnd.nextInt(-100, 101)))
          .build(), int8s(rnd, n, -128, 127));
    }
    // with a short significand every fourth input is an exact tie, most inside the output range, where rounding shows
    int8Ties.assertAtLeast("int8", 20 * n / 4, 600, 600);
    int16Ties.assertAtLeast("int16", 20 * n / 4, 800, 800);
  }

  /**
   * n inputs cycling through: {@code (float) ((k + 1/2) * scale)} with k in [-kMax, kMax) (an exact tie when the
   * scale has a short significand), the float just above it, the float just below it, and a uniform value.
   */
  private static float[] tiesAndNeighbours(SplittableRandom rnd, float scale, int kMax, int n) {
    float[] x = new float[n];
    float tie = 0f;
    for (int i = 0; i < n; i++) {
      if (i % 4 == 0) {
        tie = (float) ((rnd.nextInt(-kMax, kMax) + 0.5) * scale);
      }
      x[i] = switch (i % 4) {
        case 0 -> tie;
        case 1 -> Math.nextUp(tie);
        case 2 -> Math.nextDown(tie);
        default -> Judge.uniform(rnd, -kMax * (double) scale, kMax * (double) scale);
      };
    }
    return x;
  }

  /** Inputs that are exact ties of {@code x / scale}, found with exact arithmetic, not by how they were built. */
  private static final class TieCount {
    private static final BigDecimal TWO = BigDecimal.valueOf(2);
    int ties;
    /** Ties whose two candidate results both lie inside [qmin, qmax], so the rounding direction is visible. */
    int positiveInRange;
    int negativeInRange;
    /** Inputs that QUANTIZE would round differently if it divided by the float scale in float. */
    int floatDivisionDiffers;

    void count(float[] x, float scale, int zeroPoint, int qmin, int qmax) {
      BigDecimal exactScale = new BigDecimal(scale);
      for (float v : x) {
        double quotient = v / (double) scale; // what the runtime rounds
        floatDivisionDiffers += FixedPoint.roundHalfAwayFromZero(quotient) != FixedPoint.roundHalfAwayFromZero(
            v / scale) ? 1 : 0;
        BigDecimal[] twiceQuotient = new BigDecimal(v).multiply(TWO).divideAndRemainder(exactScale);
        if (twiceQuotient[1].signum() != 0 || !twiceQuotient[0].toBigIntegerExact().testBit(0)) {
          continue; // 2x / scale is not an odd integer: not a tie
        }
        long twice = twiceQuotient[0].longValueExact();
        assertEquals(twice / 2.0, quotient, "the double division must see the tie " + v + " / " + scale);
        ties++;
        long below = Math.floorDiv(twice, 2) + zeroPoint;
        if (below >= qmin && below + 1 <= qmax) {
          positiveInRange += twice > 0 ? 1 : 0;
          negativeInRange += twice < 0 ? 1 : 0;
        }
      }
    }

    void assertAtLeast(String type, int minTies, int minPositive, int minNegative) {
      String counts = type + ": " + ties + " exact ties, " + positiveInRange + " positive and " + negativeInRange
          + " negative inside the range, " + floatDivisionDiffers + " inputs where float division rounds differently";
      assertTrue(ties >= minTies && positiveInRange >= minPositive && negativeInRange >= minNegative
          && floatDivisionDiffers > 0, counts);
    }
  }

  @Test
  void dequantizeIsExactForInt8Int16AndFloat16Weights() {
    SplittableRandom rnd = new SplittableRandom(12000);
    for (int seed = 0; seed < 5; seed++) {
      int[] shape = {2, 50};
      Judge.checkWithin("dequantize int8", TfliteTestModels.singleOp(BuiltinOp.DEQUANTIZE, 2, null)
          .input("x", TensorType.INT8, shape, q(logUniform(rnd, 0.001, 1), rnd.nextInt(-128, 128)))
          .output("y", TensorType.FLOAT32, shape, null).build(), 0f, int8s(rnd, 100, -128, 127));
      Judge.checkWithin("dequantize int16", TfliteTestModels.singleOp(BuiltinOp.DEQUANTIZE, 4, null)
          .input("x", TensorType.INT16, shape, q(logUniform(rnd, 1e-5, 1e-3), 0))
          .output("y", TensorType.FLOAT32, shape, null).build(), 0f, int16s(rnd, 100, -32768, 32767));
    }
    // float16 weights: DEQUANTIZE(constant) -> FULLY_CONNECTED, as the float16 export mode writes them
    int units = 7;
    int depth = 13;
    short[] halfBits = new short[units * depth];
    for (int i = 0; i < halfBits.length; i++) {
      halfBits[i] = (short) (i % 5 == 0 ? rnd.nextInt(0, 0x10000) & 0x83FF : rnd.nextInt(0x3000, 0x4400)
          | (rnd.nextBoolean() ? 0x8000 : 0)); // normal values and subnormals of both signs
    }
    TfliteModel.Builder b = TfliteModel.builder().description("float16 weights");
    int x = b.addTensor(TfliteTensor.activation("x", TensorType.FLOAT32, new int[] {3, depth}, null));
    int w16 = b.addTensor(Judge.constantInt16("w16", TensorType.FLOAT16, new int[] {units, depth}, halfBits, null));
    int w = b.addTensor(TfliteTensor.activation("w", TensorType.FLOAT32, new int[] {units, depth}, null));
    int bias = b.addTensor(TfliteTensor.constantFloat32("b", new int[] {units}, floats(rnd, units, -1, 1)));
    int y = b.addTensor(TfliteTensor.activation("y", TensorType.FLOAT32, new int[] {3, units}, null));
    b.addOperator(io.sparkquant.ops.tflite.TfliteOperator.of(BuiltinOp.DEQUANTIZE, 3, new int[] {w16}, new int[] {w},
        null));
    b.addOperator(io.sparkquant.ops.tflite.TfliteOperator.of(BuiltinOp.FULLY_CONNECTED, 1, new int[] {x, w, bias},
        new int[] {y}, new OperatorOptions.FullyConnectedParams(FusedActivation.NONE, false, false)));
    TfliteModel model = b.inputs(x).outputs(y).build();
    Judge.check("float16 weights", model, floats(rnd, 3 * depth, -2, 2));
  }

  @Test
  void reshapeCopiesWithTheResolvedShape() {
    SplittableRandom rnd = new SplittableRandom(13000);
    int[] in = {2, 4, 3, 5};
    TfliteModel model = TfliteTestModels.singleOp(BuiltinOp.RESHAPE, 1, new OperatorOptions.ReshapeParams(new int[] {-1, 60}))
        .input("x", TensorType.INT8, in, q(0.1f, 3))
        .constant(TfliteTensor.constantInt32("shape", new int[] {2}, new int[] {-1, 60}, null))
        .output("y", TensorType.INT8, new int[] {2, 60}, q(0.1f, 3)).build();
    Judge.check("reshape int8", model, int8s(rnd, 120, -128, 127));
  }

  @Test
  void int16LogisticAndTanhAreBitExactForCalibratedScales() {
    for (int seed = 0; seed < 20; seed++) {
      SplittableRandom rnd = new SplittableRandom(14000 + seed);
      float inScale = logUniform(rnd, 2e-5, 2e-3); // calibrated, almost surely not a power of two
      int n = 600;
      short[] x = int16s(rnd, n, -32768, 32767);
      for (int i = 0; i < 64; i++) {
        x[i] = (short) (i - 32); // around zero, where the mirroring and rounding constants matter
      }
      x[64] = Short.MIN_VALUE;
      x[65] = Short.MAX_VALUE;
      int[] shape = {2, n / 2};
      for (BuiltinOp op : new BuiltinOp[] {BuiltinOp.LOGISTIC, BuiltinOp.TANH}) {
        TfliteModel m = TfliteTestModels.singleOp(op, 3, null)
            .input("x", TensorType.INT16, shape, q(inScale, 0))
            .output("y", TensorType.INT16, shape, q(1f / 32768, 0)).build();
        Judge.check(op + " int16 seed " + seed + " scale " + inScale, m, x);
      }
    }
    // a power-of-two input scale takes TFLite's gemmlowp path: refused with a clear message
    TfliteModel pot = TfliteTestModels.singleOp(BuiltinOp.LOGISTIC, 3, null)
        .input("x", TensorType.INT16, new int[] {1, 4}, q(1f / 4096, 0))
        .output("y", TensorType.INT16, new int[] {1, 4}, q(1f / 32768, 0)).build();
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new Interpreter(pot));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("gemmlowp"), e.getMessage());
  }
}
