package io.sparkquant.ops.qat;

import io.sparkquant.ops.numerics.QuantParams;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.ReplaceNans;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The fake-quant arithmetic of the hooks as whole-array ND4J ops (native loops instead of a Java loop per element),
 * bit-identical, for every finite input, to {@link QuantParams#quantize} then {@link QuantParams#dequantize} applied
 * element by element (FakeQuantOpsTest):
 * <pre>
 *   r = x / (double) scale               IEEE double division, as Java's
 *   r = round(clamp(r, qmin - zp, qmax - zp))
 *                                        = clamp(round(r) + zp, qmin, qmax) - zp; half away from zero, as
 *                                        FixedPoint.roundHalfAwayFromZero, with +0.0 for zeros as Java's int gives
 *                                        ({@link #roundAndClamp})
 *   fq(x) = (float) r * scale            float multiplication, as scale * (q - zp) in Java
 * </pre>
 * NaN becomes 0, as the scalar path's {@code (long) NaN == 0} does. Where the scalar path overflows (its long
 * {@code q + zeroPoint} for {@code |x / scale| >= 2^63}, infinities included) this saturates at qmin or qmax.
 * TFLite's FakeQuantWithMinMaxVars form {@code floor((clamp(x) - nudgedMin) / scale + 0.5) * scale + nudgedMin}
 * rounds ties up rather than away from zero and in float: it is not what the exporter does, so it is not used.
 */
final class FakeQuantOps {

  /** Moves exact ties away from zero, and nothing else across a tie (see {@link #roundAndClamp}). */
  private static final double TIES_AWAY = 1 + 0x1p-36;
  /** Adding and subtracting it rounds a double of magnitude below 2^51 to the nearest integer. */
  private static final double ROUND_TO_INTEGER = 0x1.8p52;

  private FakeQuantOps() {}

  /** {@code a = fq(a)} per tensor with {@code p}, in place; {@code a} of any floating type (computed as float32). */
  static void fakeQuantizeInPlace(INDArray a, QuantParams p, int qmin, int qmax) {
    INDArray r = floatValues(a).castTo(DataType.DOUBLE).divi((double) p.scale());
    roundAndClamp(r, qmin - p.zeroPoint(), qmax - p.zeroPoint());
    a.assign(r.castTo(DataType.FLOAT).muli(p.scale()));
  }

  /**
   * Symmetric fake quantization (zero point 0) of a 2-D array with one scale per row ({@code channelAxis == 0}),
   * per column ({@code 1}), or one for all ({@code -1}, {@code scales.length == 1}).
   *
   * @return a new float32 array of {@code w}'s shape
   */
  static INDArray fakeQuantizeSymmetric(INDArray w, int channelAxis, float[] scales, int qmin, int qmax) {
    INDArray r = floatValues(w).castTo(DataType.DOUBLE);
    if (channelAxis < 0) {
      r.divi((double) scales[0]);
      roundAndClamp(r, qmin, qmax);
      return r.castTo(DataType.FLOAT).muli(scales[0]);
    }
    double[] divisors = new double[scales.length];
    for (int c = 0; c < scales.length; c++) {
      divisors[c] = scales[c];
    }
    long[] vectorShape = channelAxis == 0 ? new long[] {scales.length, 1} : new long[] {1, scales.length};
    INDArray d = Nd4j.createFromArray(divisors).reshape(vectorShape);
    INDArray s = Nd4j.createFromArray(scales).reshape(vectorShape);
    if (channelAxis == 0) {
      r.diviColumnVector(d);
      roundAndClamp(r, qmin, qmax);
      return r.castTo(DataType.FLOAT).muliColumnVector(s);
    }
    r.diviRowVector(d);
    roundAndClamp(r, qmin, qmax);
    return r.castTo(DataType.FLOAT).muliRowVector(s);
  }

  /**
   * Absolute maximum per row ({@code channelAxis == 0}), per column ({@code 1}) or of the whole array ({@code -1}),
   * as float32: exact whatever the order, as {@link io.sparkquant.ops.graph.ConstTensor#absMaxAlong}.
   */
  static float[] absMax(INDArray w, int channelAxis) {
    INDArray f = floatValues(w);
    if (channelAxis < 0) {
      return new float[] {f.amaxNumber().floatValue()};
    }
    return f.amax(1 - channelAxis).toFloatVector();
  }

  /** 1 where {@code lo <= a <= hi}, else 0 (NaN included), in {@code a}'s type. */
  static INDArray passMask(INDArray a, float lo, float hi) {
    INDArray f = floatValues(a);
    // comparisons in float32, as the scalar path compared the float values
    INDArray inside = f.gte(lo).castTo(a.dataType());
    return inside.muli(f.lte(hi).castTo(a.dataType()));
  }

  /**
   * {@code r = roundHalfAwayFromZero(clamp(r, lo, hi))} in place, NaN as 0, zeros positive, for quotients
   * {@code r = x / (double) scale} of two floats, with three multiply/add passes instead of a call to C's round() per
   * element (not vectorized in the generic x86-64 build: it was 70% of the hook's time). Why it is exact:
   * <ul>
   *   <li>clamping first is the same as clamping after (the bounds are integers, rounding is monotone), and leaves
   *       {@code |r| <= 255};</li>
   *   <li>a quotient of two floats that is not exactly a tie {@code k + 0.5} is at least 2^-25 away from it (for
   *       {@code |r| >= 0.5}: {@code x - (k + 0.5) * scale} is a nonzero multiple of {@code ulp(scale) / 2}, and
   *       {@code x}'s own ulp is no smaller), and the double quotient is within 2^-45 of the real one;</li>
   *   <li>{@code r * (1 + 2^-36)} moves a tie at least 2^-37 away from zero and anything else by at most
   *       {@code 255 * 2^-36 < 2^-28}: ties now round away from zero, nothing else changes side;</li>
   *   <li>{@code (r + 1.5 * 2^52) - 1.5 * 2^52} rounds to the nearest integer (the sum's ulp is 1), and gives +0.0
   *       for every zero, as Java's integer {@code q - zeroPoint} does.</li>
   * </ul>
   */
  private static void roundAndClamp(INDArray r, int lo, int hi) {
    Nd4j.getExecutioner().exec(new ReplaceNans(r, 0.0));
    Transforms.max(r, lo, false);
    Transforms.min(r, hi, false);
    r.muli(TIES_AWAY);
    r.addi(ROUND_TO_INTEGER).subi(ROUND_TO_INTEGER);
  }

  /** {@code a} itself when it is float32, else a float32 copy (the scalar path rounded every value to float). */
  private static INDArray floatValues(INDArray a) {
    return a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
  }
}
