package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;

/**
 * MUL (reference_integer_ops/mul.h MulElementwise, kernels/mul.cc) with NumPy-style broadcasting:
 * {@code out = outputOffset + MBQM((q1 + input1Offset) * (q2 + input2Offset), outputMultiplier, outputShift)},
 * clamped. int16 is the same formula with zero points 0, so the int32 product cannot overflow.
 */
public final class Mul {

  private Mul() {}

  /** {@code outputMultiplier * 2^outputShift = input1Scale * input2Scale / outputScale}. */
  public record QuantizedParams(int input1Offset, int input2Offset, int outputOffset, int outputMultiplier,
      int outputShift, int outputActivationMin, int outputActivationMax) {}

  public static QuantizedParams prepare(float input1Scale, int input1ZeroPoint, float input2Scale,
      int input2ZeroPoint, float outputScale, int outputZeroPoint, FusedActivation activation, int qmin, int qmax) {
    // mul.cc computes the real multiplier in float (three float scales), then widens it to double
    final float realMultiplier = input1Scale * input2Scale / outputScale;
    FixedPoint.QuantizedMultiplier qm = FixedPoint.quantizeMultiplier(realMultiplier);
    KernelUtil.QuantizedRange range =
        KernelUtil.activationRangeQuantized(activation, outputScale, outputZeroPoint, qmin, qmax);
    return new QuantizedParams(-input1ZeroPoint, -input2ZeroPoint, outputZeroPoint, qm.quantizedMultiplier(),
        qm.shift(), range.min(), range.max());
  }

  private static int mulOne(QuantizedParams p, int q1, int q2) {
    final int input1Val = p.input1Offset() + q1;
    final int input2Val = p.input2Offset() + q2;
    final int unclampedResult = p.outputOffset() + FixedPoint.multiplyByQuantizedMultiplier(input1Val * input2Val,
        p.outputMultiplier(), p.outputShift());
    return KernelUtil.clamp(unclampedResult, p.outputActivationMin(), p.outputActivationMax());
  }

  public static void evalInt8(QuantizedParams p, int[] shape1, byte[] input1, int[] shape2, byte[] input2,
      int[] outputShape, byte[] output) {
    int[] i1 = Add.broadcastIndex(shape1, outputShape);
    int[] i2 = Add.broadcastIndex(shape2, outputShape);
    for (int i = 0; i < output.length; i++) {
      output[i] = (byte) mulOne(p, input1[i1[i]], input2[i2[i]]);
    }
  }

  public static void evalInt16(QuantizedParams p, int[] shape1, short[] input1, int[] shape2, short[] input2,
      int[] outputShape, short[] output) {
    int[] i1 = Add.broadcastIndex(shape1, outputShape);
    int[] i2 = Add.broadcastIndex(shape2, outputShape);
    for (int i = 0; i < output.length; i++) {
      output[i] = (short) mulOne(p, input1[i1[i]], input2[i2[i]]);
    }
  }

  public static void evalFloat(KernelUtil.FloatRange activation, int[] shape1, float[] input1, int[] shape2,
      float[] input2, int[] outputShape, float[] output) {
    int[] i1 = Add.broadcastIndex(shape1, outputShape);
    int[] i2 = Add.broadcastIndex(shape2, outputShape);
    for (int i = 0; i < output.length; i++) {
      output[i] = KernelUtil.clamp(input1[i1[i]] * input2[i2[i]], activation.min(), activation.max());
    }
  }
}
