package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.Judge.floats;
import static io.sparkquant.ops.interp.Judge.int16s;
import static io.sparkquant.ops.interp.Judge.int8s;
import static io.sparkquant.ops.interp.Judge.logUniform;
import static io.sparkquant.ops.interp.Judge.q;
import static io.sparkquant.ops.interp.SubVsTfliteTest.assertRefused;

import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTestModels;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * MUL: random single-op models with and without broadcasting, TFLite 2.6.2 against {@link Interpreter}; int8 and
 * int16 outputs exactly equal (output multipliers below and above 1), float within tolerance.
 */
class MulVsTfliteTest {

  private static TfliteModel mul(TensorType type, int version, FusedActivation act, int[] s1, TfliteQuantization q1,
      int[] s2, TfliteQuantization q2, TfliteQuantization qOut) {
    return TfliteTestModels.singleOp(BuiltinOp.MUL, version, new OperatorOptions.MulParams(act))
        .input("a", type, s1, q1).input("b", type, s2, q2)
        .output("y", type, SubVsTfliteTest.broadcast(s1, s2), qOut).build();
  }

  @Test
  void mulIsBitExactWithBroadcastingAndActivations() {
    for (int seed = 0; seed < 40; seed++) {
      SplittableRandom rnd = new SplittableRandom(23000 + seed);
      int[][] s = SubVsTfliteTest.shapes(rnd, seed);
      FusedActivation act = SubVsTfliteTest.ACTIVATIONS[rnd.nextInt(SubVsTfliteTest.ACTIVATIONS.length)];
      String ctx = "mul seed " + seed + " " + Arrays.toString(s[0]) + " * " + Arrays.toString(s[1]) + " " + act;
      int n1 = Judge.product(s[0]);
      int n2 = Judge.product(s[1]);
      float s1 = logUniform(rnd, 0.005, 0.1);
      float s2 = logUniform(rnd, 0.005, 0.1);
      // output scale from s1 * s2 / 2 (multiplier 2, a left shift) to s1 * s2 * 3000 (products of up to 255^2)
      Judge.check(ctx + " int8", mul(TensorType.INT8, 2, act, s[0], q(s1, rnd.nextInt(-128, 128)),
              s[1], q(s2, rnd.nextInt(-128, 128)), q(s1 * s2 * logUniform(rnd, 0.5, 3000), rnd.nextInt(-128, 128))),
          int8s(rnd, n1, -128, 127), int8s(rnd, n2, -128, 127));
      float t1 = logUniform(rnd, 1e-4, 1e-3);
      float t2 = logUniform(rnd, 1e-4, 1e-3);
      Judge.check(ctx + " int16", mul(TensorType.INT16, 4, act, s[0], q(t1, 0), s[1], q(t2, 0),
              q(t1 * t2 * logUniform(rnd, 0.5, 2e5), 0)),
          int16s(rnd, n1, -32768, 32767), int16s(rnd, n2, -32768, 32767));
      Judge.check(ctx + " float", mul(TensorType.FLOAT32, 1, act, s[0], null, s[1], null, null),
          floats(rnd, n1, -4, 4), floats(rnd, n2, -4, 4));
    }
  }

  @Test
  void prepareRefusesBadParametersNamingTheOperator() {
    int[] shape = {2, 3};
    assertRefused(mul(TensorType.INT8, 2, FusedActivation.SIGN_BIT, shape, q(0.1f, 0), shape, q(0.1f, 0),
        q(0.1f, 0)), "operator 0 (MUL)", "SIGN_BIT");
    assertRefused(mul(TensorType.INT8, 2, FusedActivation.NONE, shape, q(0.1f, 0), new int[] {3, 3}, q(0.1f, 0),
        q(0.1f, 0)), "operator 0 (MUL)", "do not broadcast");
    assertRefused(TfliteTestModels.singleOp(BuiltinOp.MUL, 2, new OperatorOptions.MulParams(FusedActivation.NONE))
        .input("a", TensorType.INT8, shape, q(0.1f, 0)).input("b", TensorType.INT16, shape, q(0.1f, 0))
        .output("y", TensorType.INT8, shape, q(0.1f, 0)).build(), "operator 0 (MUL)", "INT8, INT16, INT8");
    assertRefused(TfliteTestModels.singleOp(BuiltinOp.MUL, 2, new OperatorOptions.AddParams(FusedActivation.NONE))
        .input("a", TensorType.INT8, shape, q(0.1f, 0)).input("b", TensorType.INT8, shape, q(0.1f, 0))
        .output("y", TensorType.INT8, shape, q(0.1f, 0)).build(), "operator 0 (MUL)", "MulParams");
  }
}
