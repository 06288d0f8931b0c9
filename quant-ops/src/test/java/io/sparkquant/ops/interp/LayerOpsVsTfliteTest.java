package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.Judge.floats;
import static io.sparkquant.ops.interp.Judge.int16s;
import static io.sparkquant.ops.interp.Judge.int8s;
import static io.sparkquant.ops.interp.Judge.logUniform;
import static io.sparkquant.ops.interp.Judge.q;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteTestModels;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * LEAKY_RELU, HARD_SWISH, PAD, CONCATENATION, RESIZE_NEAREST_NEIGHBOR: seeded random single-op models, TFLite 2.6.2 against
 * {@link Interpreter}; int8 and int16 outputs exactly equal, float within {@link Judge#FLOAT_RELATIVE_TOLERANCE}.
 */
class LayerOpsVsTfliteTest {

  private static final TensorType[] TYPES = {TensorType.INT8, TensorType.INT16, TensorType.FLOAT32};

  private static int[] randomShape(SplittableRandom rnd) {
    return new int[] {rnd.nextInt(1, 3), rnd.nextInt(1, 7), rnd.nextInt(1, 7), rnd.nextInt(1, 6)};
  }

  private static TfliteQuantization activation(SplittableRandom rnd, TensorType t) {
    return switch (t) {
      case INT8 -> q(logUniform(rnd, 0.005, 0.2), rnd.nextInt(-128, 128));
      case INT16 -> q(logUniform(rnd, 2e-5, 1e-3), 0);
      default -> null;
    };
  }

  private static Object data(SplittableRandom rnd, TensorType t, int n) {
    return switch (t) {
      case INT8 -> int8s(rnd, n, -128, 127);
      case INT16 -> int16s(rnd, n, -32768, 32767);
      default -> floats(rnd, n, -6, 6);
    };
  }

  private static int version(BuiltinOp op, TensorType t) {
    return io.sparkquant.ops.export.OpVersions.version(op, t, null, t, false, false);
  }

  @Test
  void leakyReluIsBitExactWithTwoMultipliers() {
    for (int seed = 0; seed < 30; seed++) {
      SplittableRandom rnd = new SplittableRandom(21000 + seed);
      int[] shape = randomShape(rnd);
      // alphas below and above 1, and DL4J's default 0.01
      float alpha = seed % 5 == 0 ? 0.01f : seed % 5 == 1 ? 1.7f : Judge.uniform(rnd, 0.02, 0.5);
      for (TensorType t : TYPES) {
        TfliteQuantization inQ = activation(rnd, t);
        TfliteQuantization outQ = t == TensorType.FLOAT32 ? null
            : q(inQ.scale()[0] * Judge.uniform(rnd, 0.4, 1.6), t == TensorType.INT8 ? rnd.nextInt(-128, 128) : 0);
        TfliteModel m = TfliteTestModels.singleOp(BuiltinOp.LEAKY_RELU, version(BuiltinOp.LEAKY_RELU, t),
                new OperatorOptions.LeakyReluParams(alpha))
            .input("x", t, shape, inQ).output("y", t, shape, outQ).build();
        Judge.check("leaky_relu " + t + " seed " + seed + " alpha " + alpha, m, data(rnd, t, Judge.product(shape)));
      }
    }
  }

  @Test
  void hardSwishIsBitExactForInt8AndCloseForFloat() {
    for (int seed = 0; seed < 40; seed++) {
      SplittableRandom rnd = new SplittableRandom(27000 + seed);
      int[] shape = randomShape(rnd);
      // input scales from tiny to large (reluish exponent below, at and above 0), the output scale near the
      // range of x * relu6(x + 3) / 6 on the input's range, now and then much finer or coarser
      float inScale = logUniform(rnd, 0.001, 0.5);
      int inZero = rnd.nextInt(-128, 128);
      float outScale = inScale * (float) Judge.logUniform(rnd, 0.1, 4);
      int outZero = rnd.nextInt(-128, 128);
      TfliteQuantization inQ = q(inScale, inZero);
      TfliteQuantization outQ = q(outScale, outZero);
      String ctx = "hard_swish seed " + seed + " " + Arrays.toString(shape) + " in (" + inScale + ", " + inZero
          + ") out (" + outScale + ", " + outZero + ")";
      TfliteModel int8 = TfliteTestModels.singleOp(BuiltinOp.HARD_SWISH, 1, null)
          .input("x", TensorType.INT8, shape, inQ).output("y", TensorType.INT8, shape, outQ).build();
      int n = Judge.product(shape);
      Judge.check(ctx + " int8", int8, int8s(rnd, n, -128, 127));
      // every int8 value once, in a [1, 256] tensor
      TfliteModel all = TfliteTestModels.singleOp(BuiltinOp.HARD_SWISH, 1, null)
          .input("x", TensorType.INT8, new int[] {1, 256}, inQ).output("y", TensorType.INT8, new int[] {1, 256}, outQ)
          .build();
      byte[] every = new byte[256];
      for (int i = 0; i < 256; i++) {
        every[i] = (byte) (i - 128);
      }
      Judge.check(ctx + " every int8 value", all, (Object) every);
      TfliteModel f32 = TfliteTestModels.singleOp(BuiltinOp.HARD_SWISH, 1, null)
          .input("x", TensorType.FLOAT32, shape, null).output("y", TensorType.FLOAT32, shape, null).build();
      Judge.check(ctx + " float32", f32, floats(rnd, n, -8, 8));
    }
  }

  @Test
  void padFillsWithTheOutputZeroPoint() {
    for (int seed = 0; seed < 30; seed++) {
      SplittableRandom rnd = new SplittableRandom(22000 + seed);
      int[] shape = randomShape(rnd);
      int[] paddings = new int[8];
      for (int i = 0; i < 8; i++) {
        paddings[i] = i < 2 && seed % 3 != 0 ? 0 : rnd.nextInt(0, 3); // now and then the batch is padded too
      }
      int[] outShape = new int[4];
      for (int d = 0; d < 4; d++) {
        outShape[d] = shape[d] + paddings[2 * d] + paddings[2 * d + 1];
      }
      for (TensorType t : TYPES) {
        TfliteQuantization qp = activation(rnd, t);
        TfliteModel m = TfliteTestModels.singleOp(BuiltinOp.PAD, version(BuiltinOp.PAD, t), null)
            .input("x", t, shape, qp)
            .constant(TfliteTensor.constantInt32("paddings", new int[] {4, 2}, paddings, null))
            .output("y", t, outShape, qp).build();
        Judge.check("pad " + t + " seed " + seed + " " + Arrays.toString(shape) + " paddings "
            + Arrays.toString(paddings), m, data(rnd, t, Judge.product(shape)));
      }
    }
  }

  @Test
  void concatenationCopiesAlongEveryAxis() {
    for (int seed = 0; seed < 30; seed++) {
      SplittableRandom rnd = new SplittableRandom(23000 + seed);
      int[] shape = randomShape(rnd);
      int axis = seed % 4;
      int negative = seed % 8 >= 4 ? -4 : 0; // the same axis counted from the end
      int[] other = shape.clone();
      other[axis] = rnd.nextInt(1, 4);
      int[] outShape = shape.clone();
      outShape[axis] += other[axis];
      for (TensorType t : TYPES) {
        TfliteQuantization qp = activation(rnd, t);
        TfliteModel m = TfliteTestModels.singleOp(BuiltinOp.CONCATENATION, version(BuiltinOp.CONCATENATION, t),
                new OperatorOptions.ConcatenationParams(axis + negative, FusedActivation.NONE))
            .input("a", t, shape, qp).input("b", t, other, qp)
            .output("y", t, outShape, qp).build();
        Judge.check("concatenation " + t + " seed " + seed + " axis " + (axis + negative), m,
            data(rnd, t, Judge.product(shape)), data(rnd, t, Judge.product(other)));
      }
    }
  }

  @Test
  void int8ConcatenationWithDifferentInputParametersIsRefusedAsByTflite() {
    int[] shape = {1, 2, 2, 1};
    TfliteModel m = TfliteTestModels.singleOp(BuiltinOp.CONCATENATION, 2,
            new OperatorOptions.ConcatenationParams(3, FusedActivation.NONE))
        .input("a", TensorType.INT8, shape, q(0.1f, 3)).input("b", TensorType.INT8, shape, q(0.2f, 3))
        .output("y", TensorType.INT8, new int[] {1, 2, 2, 2}, q(0.1f, 3)).build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Interpreter(m));
    assertTrue(e.getMessage().contains("does not rescale"), e.getMessage());
    assertThrows(RuntimeException.class, () -> Judge.tflite(m, 1, new byte[4], new byte[4]),
        "TFLite 2.6.2 refuses it too");
  }

  @Test
  void resizeNearestNeighborMatchesForEveryCornerMode() {
    boolean[][] modes = {{false, false}, {true, false}, {false, true}};
    for (int seed = 0; seed < 30; seed++) {
      SplittableRandom rnd = new SplittableRandom(24000 + seed);
      int[] shape = randomShape(rnd);
      boolean[] mode = modes[seed % 3];
      // integer factors (DL4J's Upsampling2D) and arbitrary sizes, up and down
      int outH = seed % 2 == 0 ? shape[1] * rnd.nextInt(1, 4) : rnd.nextInt(1, 12);
      int outW = seed % 2 == 0 ? shape[2] * rnd.nextInt(1, 4) : rnd.nextInt(1, 12);
      int[] outShape = {shape[0], outH, outW, shape[3]};
      for (TensorType t : TYPES) {
        TfliteQuantization qp = activation(rnd, t);
        // op_version.cc: int16 4, else align_corners or half_pixel_centers 3
        int v = t == TensorType.INT16 ? 4 : mode[0] || mode[1] ? 3 : version(BuiltinOp.RESIZE_NEAREST_NEIGHBOR, t);
        TfliteModel m = TfliteTestModels.singleOp(BuiltinOp.RESIZE_NEAREST_NEIGHBOR, v,
                new OperatorOptions.ResizeNearestNeighborParams(mode[0], mode[1]))
            .input("x", t, shape, qp)
            .constant(TfliteTensor.constantInt32("size", new int[] {2}, new int[] {outH, outW}, null))
            .output("y", t, outShape, qp).build();
        Judge.check("resize_nearest_neighbor " + t + " seed " + seed + " " + Arrays.toString(shape) + " -> " + outH
            + "x" + outW + " align_corners " + mode[0] + " half_pixel_centers " + mode[1], m,
            data(rnd, t, Judge.product(shape)));
      }
    }
  }
}
