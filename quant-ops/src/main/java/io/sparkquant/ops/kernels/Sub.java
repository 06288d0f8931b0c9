package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;
import java.util.Arrays;

/**
 * SUB (reference/sub.h SubElementwise, kernels/sub.cc) with NumPy-style broadcasting. The quantized parameters
 * are ADD's ({@link Add#prepare}: sub.cc's PrepareGeneralSubOp is the same formula, leftShift 20 for int8 and 15
 * for int16 with general scales); only the sum of the two rescaled inputs becomes a difference.
 */
public final class Sub {

  private Sub() {}

  /** Elementwise on int8 or int16 values given as ints (the caller narrows). */
  private static int subOne(Add.QuantizedParams p, int q1, int q2) {
    final int input1Val = p.input1Offset() + q1;
    final int input2Val = p.input2Offset() + q2;
    final int shiftedInput1Val = input1Val * (1 << p.leftShift());
    final int shiftedInput2Val = input2Val * (1 << p.leftShift());
    final int scaledInput1Val = FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(shiftedInput1Val,
        p.input1Multiplier(), p.input1Shift());
    final int scaledInput2Val = FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(shiftedInput2Val,
        p.input2Multiplier(), p.input2Shift());
    final int rawSub = scaledInput1Val - scaledInput2Val;
    final int rawOutput = FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(rawSub, p.outputMultiplier(),
        p.outputShift()) + p.outputOffset();
    return KernelUtil.clamp(rawOutput, p.outputActivationMin(), p.outputActivationMax());
  }

  public static void evalInt8(Add.QuantizedParams p, int[] shape1, byte[] input1, int[] shape2, byte[] input2,
      int[] outputShape, byte[] output) {
    if (Arrays.equals(shape1, shape2)) {
      for (int i = 0; i < output.length; i++) {
        output[i] = (byte) subOne(p, input1[i], input2[i]);
      }
      return;
    }
    int[] i1 = Add.broadcastIndex(shape1, outputShape);
    int[] i2 = Add.broadcastIndex(shape2, outputShape);
    for (int i = 0; i < output.length; i++) {
      output[i] = (byte) subOne(p, input1[i1[i]], input2[i2[i]]);
    }
  }

  public static void evalInt16(Add.QuantizedParams p, int[] shape1, short[] input1, int[] shape2, short[] input2,
      int[] outputShape, short[] output) {
    int[] i1 = Add.broadcastIndex(shape1, outputShape);
    int[] i2 = Add.broadcastIndex(shape2, outputShape);
    for (int i = 0; i < output.length; i++) {
      output[i] = (short) subOne(p, input1[i1[i]], input2[i2[i]]);
    }
  }

  public static void evalFloat(KernelUtil.FloatRange activation, int[] shape1, float[] input1, int[] shape2,
      float[] input2, int[] outputShape, float[] output) {
    int[] i1 = Add.broadcastIndex(shape1, outputShape);
    int[] i2 = Add.broadcastIndex(shape2, outputShape);
    for (int i = 0; i < output.length; i++) {
      output[i] = KernelUtil.clamp(input1[i1[i]] - input2[i2[i]], activation.min(), activation.max());
    }
  }
}
