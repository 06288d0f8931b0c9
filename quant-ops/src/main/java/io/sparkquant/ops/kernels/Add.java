package io.sparkquant.ops.kernels;

import io.sparkquant.ops.numerics.FixedPoint;
import java.util.Arrays;

/**
 * ADD (reference_integer_ops/add.h, reference/add.h, kernels/add.cc) with NumPy-style broadcasting.
 * Quantized inputs are brought to a common scale {@code twiceMaxInputScale / 2^leftShift} (leftShift 20
 * for int8, 15 for int16 with general scales), summed, then rescaled to the output.
 */
public final class Add {

  private Add() {}

  public record QuantizedParams(int leftShift, int input1Offset, int input1Multiplier, int input1Shift,
      int input2Offset, int input2Multiplier, int input2Shift, int outputOffset, int outputMultiplier,
      int outputShift, int outputActivationMin, int outputActivationMax) {}

  /** leftShift 20 for int8; 15 for the general-scale int16 path. */
  public static QuantizedParams prepare(float input1Scale, int input1ZeroPoint, float input2Scale,
      int input2ZeroPoint, float outputScale, int outputZeroPoint, FusedActivation activation, int leftShift, int qmin,
      int qmax) {
    final double twiceMaxInputScale = 2 * Math.max(input1Scale, input2Scale); // float product, as add.cc
    final double realInput1Multiplier = input1Scale / twiceMaxInputScale;
    final double realInput2Multiplier = input2Scale / twiceMaxInputScale;
    final double realOutputMultiplier = twiceMaxInputScale / ((1 << leftShift) * (double) outputScale);
    FixedPoint.QuantizedMultiplier in1 = FixedPoint.quantizeMultiplierSmallerThanOne(realInput1Multiplier);
    FixedPoint.QuantizedMultiplier in2 = FixedPoint.quantizeMultiplierSmallerThanOne(realInput2Multiplier);
    FixedPoint.QuantizedMultiplier out = FixedPoint.quantizeMultiplierSmallerThanOne(realOutputMultiplier);
    KernelUtil.QuantizedRange range =
        KernelUtil.activationRangeQuantized(activation, outputScale, outputZeroPoint, qmin, qmax);
    return new QuantizedParams(leftShift, -input1ZeroPoint, in1.quantizedMultiplier(), in1.shift(), -input2ZeroPoint,
        in2.quantizedMultiplier(), in2.shift(), outputZeroPoint, out.quantizedMultiplier(), out.shift(), range.min(),
        range.max());
  }

  /** The output shape of broadcasting two shapes (right-aligned; each pair equal or one of them 1). */
  public static int[] broadcastShape(int[] a, int[] b) {
    int rank = Math.max(a.length, b.length);
    int[] out = new int[rank];
    for (int i = 0; i < rank; i++) {
      int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
      int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
      if (da != db && da != 1 && db != 1) {
        throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
            + " do not broadcast: dimension " + i + " is " + da + " vs " + db + " (must be equal or 1)");
      }
      out[i] = Math.max(da, db);
    }
    return out;
  }

  /** For each flat output index, the flat index into an input of shape {@code in} broadcast to {@code out}. */
  static int[] broadcastIndex(int[] in, int[] out) {
    int flat = 1;
    for (int d : out) {
      flat *= d;
    }
    int rank = out.length;
    int[] strides = new int[rank];
    int s = 1;
    for (int i = rank - 1; i >= 0; i--) {
      int j = i - (rank - in.length);
      int dim = j >= 0 ? in[j] : 1;
      strides[i] = dim == 1 ? 0 : s;
      s *= dim;
    }
    int[] index = new int[flat];
    int[] pos = new int[rank];
    for (int k = 0; k < flat; k++) {
      int idx = 0;
      for (int i = 0; i < rank; i++) {
        idx += pos[i] * strides[i];
      }
      index[k] = idx;
      for (int i = rank - 1; i >= 0; i--) {
        if (++pos[i] < out[i]) {
          break;
        }
        pos[i] = 0;
      }
    }
    return index;
  }

  private static boolean same(int[] a, int[] b) {
    return Arrays.equals(a, b);
  }

  /** Elementwise on int8 or int16 values given as ints (the caller narrows). */
  private static int addOne(QuantizedParams p, int q1, int q2) {
    final int input1Val = p.input1Offset() + q1;
    final int input2Val = p.input2Offset() + q2;
    final int shiftedInput1Val = input1Val * (1 << p.leftShift());
    final int shiftedInput2Val = input2Val * (1 << p.leftShift());
    final int scaledInput1Val = FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(shiftedInput1Val,
        p.input1Multiplier(), p.input1Shift());
    final int scaledInput2Val = FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(shiftedInput2Val,
        p.input2Multiplier(), p.input2Shift());
    final int rawSum = scaledInput1Val + scaledInput2Val;
    final int rawOutput = FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(rawSum, p.outputMultiplier(),
        p.outputShift()) + p.outputOffset();
    return KernelUtil.clamp(rawOutput, p.outputActivationMin(), p.outputActivationMax());
  }

  public static void evalInt8(QuantizedParams p, int[] shape1, byte[] input1, int[] shape2, byte[] input2,
      int[] outputShape, byte[] output) {
    if (same(shape1, shape2)) {
      for (int i = 0; i < output.length; i++) {
        output[i] = (byte) addOne(p, input1[i], input2[i]);
      }
      return;
    }
    int[] i1 = broadcastIndex(shape1, outputShape);
    int[] i2 = broadcastIndex(shape2, outputShape);
    for (int i = 0; i < output.length; i++) {
      output[i] = (byte) addOne(p, input1[i1[i]], input2[i2[i]]);
    }
  }

  public static void evalInt16(QuantizedParams p, int[] shape1, short[] input1, int[] shape2, short[] input2,
      int[] outputShape, short[] output) {
    int[] i1 = broadcastIndex(shape1, outputShape);
    int[] i2 = broadcastIndex(shape2, outputShape);
    for (int i = 0; i < output.length; i++) {
      output[i] = (short) addOne(p, input1[i1[i]], input2[i2[i]]);
    }
  }

  public static void evalFloat(KernelUtil.FloatRange activation, int[] shape1, float[] input1, int[] shape2,
      float[] input2, int[] outputShape, float[] output) {
    int[] i1 = broadcastIndex(shape1, outputShape);
    int[] i2 = broadcastIndex(shape2, outputShape);
    for (int i = 0; i < output.length; i++) {
      output[i] = KernelUtil.clamp(input1[i1[i]] + input2[i2[i]], activation.min(), activation.max());
    }
  }
}
