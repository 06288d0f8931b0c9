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
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteTestModels;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * SUB: random single-op models with and without broadcasting, TFLite 2.6.2 against {@link Interpreter}; int8 and
 * int16 (general scales) outputs exactly equal, float within tolerance.
 */
class SubVsTfliteTest {

  static final FusedActivation[] ACTIVATIONS = {FusedActivation.NONE, FusedActivation.RELU, FusedActivation.RELU6,
      FusedActivation.RELU_N1_TO_1};

  /** A shape and a second shape that broadcasts with it: equal, per-channel, a row, a scalar-like or mixed. */
  static int[][] shapes(SplittableRandom rnd, int seed) {
    int rank = rnd.nextInt(1, 5);
    int[] a = new int[rank];
    for (int i = 0; i < rank; i++) {
      a[i] = rnd.nextInt(1, 7);
    }
    int[] b = a.clone();
    switch (seed % 5) {
      case 1 -> b = new int[] {a[rank - 1]};
      case 2 -> b = new int[] {1};
      case 3 -> {
        for (int i = 0; i < rank; i++) {
          b[i] = rnd.nextBoolean() ? 1 : a[i];
        }
      }
      case 4 -> { // each side broadcasts along different axes
        for (int i = 0; i < rank; i++) {
          if (rnd.nextBoolean()) {
            b[i] = 1;
          } else {
            a[i] = 1;
          }
        }
      }
      default -> { }
    }
    return seed % 2 == 0 ? new int[][] {a, b} : new int[][] {b, a};
  }

  /** The broadcast output shape; the first shape for the damaged models whose shapes do not broadcast. */
  static int[] broadcast(int[] a, int[] b) {
    try {
      return io.sparkquant.ops.kernels.Add.broadcastShape(a, b);
    } catch (IllegalArgumentException e) {
      return a;
    }
  }

  private static TfliteModel sub(TensorType type, int version, boolean potScaleInt16, FusedActivation act, int[] s1,
      io.sparkquant.ops.tflite.TfliteQuantization q1, int[] s2, io.sparkquant.ops.tflite.TfliteQuantization q2,
      io.sparkquant.ops.tflite.TfliteQuantization qOut) {
    return TfliteTestModels.singleOp(BuiltinOp.SUB, version, new OperatorOptions.SubParams(act, potScaleInt16))
        .input("a", type, s1, q1).input("b", type, s2, q2).output("y", type, broadcast(s1, s2), qOut).build();
  }

  @Test
  void subIsBitExactWithBroadcastingAndActivations() {
    for (int seed = 0; seed < 40; seed++) {
      SplittableRandom rnd = new SplittableRandom(21000 + seed);
      int[][] s = shapes(rnd, seed);
      FusedActivation act = ACTIVATIONS[rnd.nextInt(ACTIVATIONS.length)];
      String ctx = "sub seed " + seed + " " + Arrays.toString(s[0]) + " - " + Arrays.toString(s[1]) + " " + act;
      int n1 = Judge.product(s[0]);
      int n2 = Judge.product(s[1]);
      Judge.check(ctx + " int8", sub(TensorType.INT8, 2, true, act,
              s[0], q(logUniform(rnd, 0.005, 0.1), rnd.nextInt(-128, 128)),
              s[1], q(logUniform(rnd, 0.005, 0.1), rnd.nextInt(-128, 128)),
              q(logUniform(rnd, 0.01, 0.2), rnd.nextInt(-128, 128))),
          int8s(rnd, n1, -128, 127), int8s(rnd, n2, -128, 127));
      // general-scale int16: pot_scale_int16 false, or true with scales that are not powers of two (x 1.1)
      boolean pot = seed % 2 == 0;
      Judge.check(ctx + " int16 pot_scale_int16 " + pot, sub(TensorType.INT16, pot ? 3 : 5, pot, act,
              s[0], q(logUniform(rnd, 1e-4, 1e-3) * 1.1f, 0), s[1], q(logUniform(rnd, 1e-4, 1e-3) * 1.1f, 0),
              q(logUniform(rnd, 2e-4, 2e-3) * 1.1f, 0)),
          int16s(rnd, n1, -32768, 32767), int16s(rnd, n2, -32768, 32767));
      Judge.check(ctx + " float", sub(TensorType.FLOAT32, 1, false, act, s[0], null, s[1], null, null),
          floats(rnd, n1, -4, 4), floats(rnd, n2, -4, 4));
    }
  }

  /** Same scales on both inputs: the rescaled inputs are equal multiples, where a tie in the rounding is likeliest. */
  @Test
  void subWithEqualInputScalesIsBitExact() {
    for (int seed = 0; seed < 20; seed++) {
      SplittableRandom rnd = new SplittableRandom(22000 + seed);
      int[] shape = {1, 16, 16, 4};
      float scale = logUniform(rnd, 0.005, 0.1);
      int n = Judge.product(shape);
      Judge.check("sub equal scales seed " + seed, sub(TensorType.INT8, 2, true, FusedActivation.NONE,
              shape, q(scale, rnd.nextInt(-128, 128)), shape, q(scale, rnd.nextInt(-128, 128)),
              q(scale * Judge.uniform(rnd, 0.5, 2.5), rnd.nextInt(-128, 128))),
          int8s(rnd, n, -128, 127), int8s(rnd, n, -128, 127));
    }
  }

  @Test
  void prepareRefusesBadParametersNamingTheOperator() {
    int[] shape = {1, 4};
    // int16 LSTM path (power-of-two scales with pot_scale_int16) is not implemented: refused, not approximated
    assertRefused(sub(TensorType.INT16, 3, true, FusedActivation.NONE, shape, q(1f / 1024, 0), shape,
        q(1f / 1024, 0), q(1f / 512, 0)), "operator 0 (SUB)", "power-of-two");
    assertRefused(sub(TensorType.INT8, 2, false, FusedActivation.NONE, shape, q(0.1f, 0), shape, null,
        q(0.1f, 0)), "operator 0 (SUB)", "no quantization parameters");
    assertRefused(sub(TensorType.INT8, 2, false, FusedActivation.TANH, shape, q(0.1f, 0), shape, q(0.1f, 0),
        q(0.1f, 0)), "operator 0 (SUB)", "TANH");
    assertRefused(sub(TensorType.INT8, 2, false, FusedActivation.NONE, new int[] {2, 3}, q(0.1f, 0),
        new int[] {4, 3}, q(0.1f, 0), q(0.1f, 0)), "operator 0 (SUB)", "do not broadcast");
    assertRefused(sub(TensorType.INT8, 2, false, FusedActivation.NONE, new int[] {1, 2, 1, 2, 2}, q(0.1f, 0),
        new int[] {1, 2, 2, 1, 2}, q(0.1f, 0), q(0.1f, 0)), "operator 0 (SUB)", "at most 4 dimensions");
  }

  /** The interpreter refuses the model at construction with a message naming the operator and the problem. */
  static void assertRefused(TfliteModel model, String operator, String problem) {
    byte[] bytes;
    try {
      bytes = TfliteWriter.write(model);
    } catch (IllegalArgumentException e) { // the writer's structural check caught it first
      assertTrue(e.getMessage().contains(problem), e.getMessage());
      return;
    }
    InvalidModelException e = assertThrows(InvalidModelException.class,
        () -> new Interpreter(TfliteReader.read(bytes)));
    assertTrue(e.getMessage().contains(operator) && e.getMessage().contains(problem), e.getMessage());
  }
}
