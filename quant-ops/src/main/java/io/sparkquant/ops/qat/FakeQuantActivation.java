package io.sparkquant.ops.qat;

import io.sparkquant.ops.kernels.Conv;
import io.sparkquant.ops.kernels.DepthwiseConv;
import io.sparkquant.ops.kernels.FullyConnected;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.LeakyRelu;
import io.sparkquant.ops.kernels.Quantize;
import io.sparkquant.ops.numerics.FixedPoint;
import io.sparkquant.ops.numerics.QuantParams;
import java.util.Arrays;
import java.util.Objects;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Activation fake quantization: wraps a layer's real activation (identity, relu, relu6, tanh, sigmoid, softmax...)
 * and fake-quantizes, per tensor with int8 asymmetric parameters, the tensors the exporter quantizes:
 * <ul>
 *   <li>the output (the layer's activation, after a fused RELU/RELU6), with {@link #setOutputRange};</li>
 *   <li>optionally the input, i.e. the layer's pre-activation, with {@link #setInputRange}: the exporter writes it as
 *       a tensor of its own where the activation is not fused (a dense layer's logits before SOFTMAX, a conv output
 *       before TANH/LOGISTIC).</li>
 * </ul>
 * Forward: {@code out = fqOut(act(fqIn(x)))}, {@code fq(v) = p.dequantize(p.quantize(v, -128, 127))} with
 * {@code p = QuantParams.int8Activation(min, max)}: the exporter's scale, nudged zero point and rounding.
 * Backward (straight-through estimator): the gradient of {@code fq} is 1 where its argument lies in
 * {@code [p.dequantize(-128), p.dequantize(127)]} and 0 outside; in between, the wrapped activation's own gradient.
 *
 * <p>Ranges come from outside (a calibration table, refreshed between epochs) and are plain fields, so they survive
 * DL4J's JSON configuration and ModelSerializer. With {@code enabled == false} every call is delegated unchanged to
 * the wrapped activation. Fixed output parameters (softmax, logistic, tanh) are ranges too:
 * {@link #fixedOutputRange}.
 */
public final class FakeQuantActivation extends BaseActivationFunction {

  private static final long serialVersionUID = 1L;
  private static final int QMIN = -128;
  private static final int QMAX = 127;

  private IActivation activation = new ActivationIdentity();
  /** {min, max} of the pre-activation, or null: not quantized. */
  private float[] inputRange;
  /** {min, max} of the activation output, or null: not quantized. */
  private float[] outputRange;
  private boolean enabled = true;
  /** The integer kernel whose output this hook simulates, or null: fake-quantize the float value. */
  private IntegerKernel integerKernel;
  /** {min, max} of the integer kernel's input tensor (its parameters give {@code inputScale}). */
  private float[] kernelInputRange;
  /**
   * The weight scales of the layer's current forward pass, set by its {@link FakeQuantWeights} just before this
   * activation runs (DL4J fake-quantizes a layer's weights in its preOutput); null while they are float. Not
   * configuration: never serialized.
   */
  private transient float[] filterScales;

  /** Identity, nothing quantized until a range is set (the form DL4J's JSON deserializer needs). */
  public FakeQuantActivation() {}

  /** Wraps {@code activation}; nothing is quantized until a range is set. */
  public FakeQuantActivation(IActivation activation) {
    this.activation = Objects.requireNonNull(activation, "activation");
  }

  /** Wraps {@code activation} and quantizes its output over {@code [min, max]}. */
  public static FakeQuantActivation output(IActivation activation, float min, float max) {
    FakeQuantActivation a = new FakeQuantActivation(activation);
    a.setOutputRange(min, max);
    return a;
  }

  /**
   * The range whose {@link QuantParams#int8Activation} gives the exporter's fixed int8 output parameters: softmax
   * and sigmoid (1/256, -128): {@code [0, 255/256]}; tanh (1/128, 0): {@code [-1, 127/128]}.
   *
   * @throws IllegalArgumentException for an activation whose output parameters come from calibration
   */
  public static float[] fixedOutputRange(IActivation activation) {
    if (activation instanceof ActivationSoftmax || activation instanceof ActivationSigmoid) {
      return new float[] {0f, 255f / 256f};
    }
    if (activation instanceof ActivationTanH) {
      return new float[] {-1f, 127f / 128f};
    }
    throw new IllegalArgumentException("activation " + activation + " has no fixed int8 output parameters; "
        + "fixed ones: softmax, sigmoid (1/256, -128), tanh (1/128, 0)");
  }

  /**
   * The int8 kernels whose output a hook can requantize exactly, with the output stage (multiplier rounding) each
   * uses in TFLite 2.6.2.
   */
  public enum IntegerKernel {
    /** {@link Conv#outputStage}: ruy, single rounding. */
    CONV_2D,
    /** {@link DepthwiseConv#outputStage}: common.h, double rounding. */
    DEPTHWISE_CONV_2D,
    /** {@link FullyConnected#outputStage}: ruy, single rounding. */
    FULLY_CONNECTED,
    /**
     * {@link LeakyRelu}: the wrapped {@link ActivationLReLU}'s alpha, the input's int8 value requantized with two
     * fixed-point multipliers (double rounding). Its input is read on its grid (the output of an int8 op), no
     * weights.
     */
    LEAKY_RELU,
    /**
     * {@link Quantize#requantize}: QUANTIZE of an int8 input to the output's int8 parameters (a CONCATENATION input
     * the exporter requantizes), {@code MultiplyByQuantizedMultiplier(q - inputZeroPoint)}, double rounding; the
     * values unchanged when the parameters agree (the exporter then writes no QUANTIZE). The wrapped activation is
     * the identity.
     */
    REQUANTIZE
  }

  public IActivation getWrapped() {
    return activation;
  }

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /** Quantizes the activation output over {@code [min, max]} (extended to hold 0, as the exporter does). */
  public void setOutputRange(float min, float max) {
    QuantParams.int8Activation(min, max); // rejects a non-finite or inverted range now, not at the next batch
    outputRange = new float[] {min, max};
  }

  /** Leaves the activation output in float (a softmax output while training with cross-entropy). */
  public void clearOutputRange() {
    outputRange = null;
  }

  /** Quantizes the pre-activation over {@code [min, max]}. */
  public void setInputRange(float min, float max) {
    QuantParams.int8Activation(min, max);
    inputRange = new float[] {min, max};
  }

  /**
   * Simulates the int8 {@code kernel} that produces this layer's output (the pre-activation when an input range is
   * set, as for logits before a softmax; otherwise the output, with the wrapped identity/relu/relu6 as the kernel's
   * fused activation) instead of fake-quantizing its float value: with {@code inputScale} from
   * {@code [inputMin, inputMax]} (the range of the tensor the layer reads) and the weight scales of the forward
   * pass, each pre-activation {@code z} gives back the kernel's int32 accumulator
   * {@code acc = round(z / (inputScale * filterScale[c]))}, which the kernel's own prepare and output stage turn into
   * the int8 value TFLite computes. {@code acc} is exact when the inputs and weights are on their grids (they are,
   * after fake quantization) and the float sum's error stays below half a step; the bias need not be snapped: an
   * integer sum plus a bias rounds as the integer plus the rounded bias, except at a tie. Channel {@code c} is
   * dimension 1 ({@code [N, C]} dense, NCHW conv).
   */
  public void setIntegerKernel(IntegerKernel kernel, float inputMin, float inputMax) {
    QuantParams.int8Activation(inputMin, inputMax);
    integerKernel = Objects.requireNonNull(kernel, "kernel");
    kernelInputRange = new float[] {inputMin, inputMax};
  }

  /** Back to fake-quantizing the float pre-activation/output. */
  public void clearIntegerKernel() {
    integerKernel = null;
    kernelInputRange = null;
  }

  /** The integer kernel simulated, or null. */
  public IntegerKernel getIntegerKernel() {
    return integerKernel;
  }

  /** {min, max} of the integer kernel's input, or null. */
  public float[] getKernelInputRange() {
    return kernelInputRange == null ? null : kernelInputRange.clone();
  }

  /** The current forward pass's weight scales (exported channel order), or null for float weights. */
  void setFilterScales(float[] scales) {
    filterScales = scales;
  }

  /** {min, max} or null. */
  public float[] getOutputRange() {
    return outputRange == null ? null : outputRange.clone();
  }

  /** {min, max} or null. */
  public float[] getInputRange() {
    return inputRange == null ? null : inputRange.clone();
  }

  /** The int8 parameters of the output, or null when it is not quantized. */
  public QuantParams outputParams() {
    return params(outputRange);
  }

  /** The int8 parameters of the pre-activation, or null when it is not quantized. */
  public QuantParams inputParams() {
    return params(inputRange);
  }

  private static QuantParams params(float[] range) {
    return range == null ? null : QuantParams.int8Activation(range[0], range[1]);
  }

  @Override
  public INDArray getActivation(INDArray in, boolean training) {
    if (!enabled) {
      return activation.getActivation(in, training);
    }
    QuantParams pIn = inputParams();
    QuantParams pOut = outputParams();
    if (integerKernel == IntegerKernel.LEAKY_RELU && pIn == null && pOut != null) {
      leakyReluInPlace(in, pOut);
      return in;
    }
    if (integerKernel == IntegerKernel.REQUANTIZE && pIn == null && pOut != null) {
      requantizeInt8InPlace(in, pOut);
      return in;
    }
    if (integerKernel != null && pIn == null && pOut != null) {
      // the kernel's output, fused activation included: the wrapped activation is its clamp
      requantizeInPlace(in, fusedActivation(), pOut);
      return in;
    }
    if (pIn != null) {
      if (integerKernel != null) {
        requantizeInPlace(in, FusedActivation.NONE, pIn);
      } else {
        fakeQuantizeInPlace(in, pIn);
      }
    }
    INDArray out = activation.getActivation(in, training);
    if (pOut != null) {
      fakeQuantizeInPlace(out, pOut);
    }
    return out;
  }

  /**
   * {@code z = outputScale * (q - outputZeroPoint)} with {@code q} the int8 output of {@link #integerKernel} for the
   * accumulator {@code z} stands for (see {@link #setIntegerKernel}); a Java loop over the values, because the
   * fixed-point multiply needs 64-bit integer products.
   */
  private void requantizeInPlace(INDArray z, FusedActivation fused, QuantParams output) {
    float[] s = filterScales;
    if (s == null) {
      throw new IllegalStateException("integer kernel " + integerKernel + " without weight scales: the layer's "
          + "weights must be fake-quantized (an enabled FakeQuantWeights) for its accumulators to be integers");
    }
    int rows = (int) z.size(0);
    int channels = (int) z.size(1);
    QuantParams input = QuantParams.int8Activation(kernelInputRange[0], kernelInputRange[1]);
    OutputStage stage = OutputStage.prepare(integerKernel, input, s, output, fused, channels);
    float[] v = floats(z);
    int perChannel = v.length / (rows * channels); // 1 for [N, C], H * W for NCHW
    int zeroPoint = output.zeroPoint();
    float scale = output.scale();
    int i = 0;
    for (int row = 0; row < rows; row++) {
      for (int c = 0; c < channels; c++) {
        // exact: the product of two floats fits in a double
        double accScale = (double) input.scale() * s[s.length == 1 ? 0 : c];
        for (int end = i + perChannel; i < end; i++) {
          // int32 as in the kernel; a float value past it (diverging training) saturates, as the int8 output does
          long acc = Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE,
              FixedPoint.roundHalfAwayFromZero(v[i] / accScale)));
          v[i] = (float) (stage.apply((int) acc, c) - zeroPoint) * scale; // as QuantParams.dequantize
        }
      }
    }
    z.assign(Nd4j.create(v, z.shape(), 'c').castTo(z.dataType()));
  }

  /**
   * {@code x = outputScale * (q - outputZeroPoint)} with {@code q} the int8 LEAKY_RELU of the int8 input that
   * {@code x} stands for ({@code x} is on the input's grid: {@code quantize} gives its int8 value back exactly).
   */
  private void leakyReluInPlace(INDArray x, QuantParams output) {
    if (!(activation instanceof ActivationLReLU lrelu)) {
      throw new IllegalStateException("integer kernel LEAKY_RELU wraps " + activation + ", not a leaky relu");
    }
    QuantParams input = QuantParams.int8Activation(kernelInputRange[0], kernelInputRange[1]);
    LeakyRelu.QuantizedParams p = LeakyRelu.prepare(input.scale(), input.zeroPoint(), output.scale(),
        output.zeroPoint(), (float) lrelu.getAlpha(), QMIN, QMAX);
    float[] v = floats(x);
    byte[] q = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      q[i] = (byte) input.quantize(v[i], QMIN, QMAX);
    }
    byte[] out = new byte[v.length];
    LeakyRelu.evalInt8(p, q, out);
    for (int i = 0; i < v.length; i++) {
      v[i] = output.dequantize(out[i]);
    }
    x.assign(Nd4j.create(v, x.shape(), 'c').castTo(x.dataType()));
  }

  /**
   * {@code x = outputScale * (q - outputZeroPoint)} with {@code q} the int8 requantization of the int8 input that
   * {@code x} stands for ({@code x} is on the input's grid).
   */
  private void requantizeInt8InPlace(INDArray x, QuantParams output) {
    QuantParams input = QuantParams.int8Activation(kernelInputRange[0], kernelInputRange[1]);
    if (input.equals(output)) {
      return; // no QUANTIZE is exported: the values are on the output's grid already
    }
    FixedPoint.QuantizedMultiplier m = Quantize.prepareRequantize(input.scale(), output.scale());
    float[] v = floats(x);
    int[] q = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      q[i] = input.quantize(v[i], QMIN, QMAX);
    }
    byte[] out = new byte[v.length];
    Quantize.requantize(q, input.zeroPoint(), m, output.zeroPoint(), QMIN, QMAX, out);
    for (int i = 0; i < v.length; i++) {
      v[i] = output.dequantize(out[i]);
    }
    x.assign(Nd4j.create(v, x.shape(), 'c').castTo(x.dataType()));
  }

  /**
   * The output stage of one int8 kernel with its prepared parameters: {@code multiplier}/{@code shift} per channel
   * (one for FULLY_CONNECTED), from the kernel's own prepare.
   */
  private record OutputStage(IntegerKernel kernel, int[] multiplier, int[] shift, int outputOffset,
      int outputActivationMin, int outputActivationMax) {

    static OutputStage prepare(IntegerKernel kernel, QuantParams input, float[] filterScales, QuantParams output,
        FusedActivation fused, int channels) {
      int inZp = input.zeroPoint();
      int outZp = output.zeroPoint();
      return switch (kernel) {
        case CONV_2D -> {
          Conv.QuantizedParams p = Conv.prepare(input.scale(), inZp, filterScales, output.scale(), outZp, fused,
              channels, QMIN, QMAX);
          yield new OutputStage(kernel, p.outputMultiplier(), p.outputShift(), p.outputOffset(),
              p.outputActivationMin(), p.outputActivationMax());
        }
        case DEPTHWISE_CONV_2D -> {
          // the depth multiplier does not enter the output stage
          DepthwiseConv.QuantizedParams p = DepthwiseConv.prepare(input.scale(), inZp, filterScales, output.scale(),
              outZp, fused, channels, 1, QMIN, QMAX);
          yield new OutputStage(kernel, p.outputMultiplier(), p.outputShift(), p.outputOffset(),
              p.outputActivationMin(), p.outputActivationMax());
        }
        case FULLY_CONNECTED -> {
          if (filterScales.length != 1) {
            throw new IllegalStateException("FULLY_CONNECTED has per-tensor weights, got " + filterScales.length
                + " scales");
          }
          FullyConnected.QuantizedParams p = FullyConnected.prepare(input.scale(), inZp, filterScales[0], 0,
              output.scale(), outZp, fused, QMIN, QMAX);
          int[] m = new int[channels];
          int[] sh = new int[channels];
          Arrays.fill(m, p.outputMultiplier());
          Arrays.fill(sh, p.outputShift());
          yield new OutputStage(kernel, m, sh, p.outputOffset(), p.outputActivationMin(), p.outputActivationMax());
        }
        case LEAKY_RELU, REQUANTIZE -> throw new IllegalStateException(kernel + " has no accumulator output stage");
      };
    }

    /** The int8 value of accumulator {@code acc} in channel {@code c}. */
    int apply(int acc, int c) {
      return switch (kernel) {
        case CONV_2D -> Conv.outputStage(acc, multiplier[c], shift[c], outputOffset, outputActivationMin,
            outputActivationMax);
        case DEPTHWISE_CONV_2D -> DepthwiseConv.outputStage(acc, multiplier[c], shift[c], outputOffset,
            outputActivationMin, outputActivationMax);
        case FULLY_CONNECTED -> FullyConnected.outputStage(acc, multiplier[c], shift[c], outputOffset,
            outputActivationMin, outputActivationMax);
        case LEAKY_RELU, REQUANTIZE -> throw new IllegalStateException(kernel + " has no accumulator output stage");
      };
    }
  }

  /** The wrapped activation as the kernel's fused activation. */
  private FusedActivation fusedActivation() {
    if (activation instanceof ActivationIdentity) {
      return FusedActivation.NONE;
    }
    if (activation instanceof ActivationReLU r && r.equals(new ActivationReLU())) {
      return FusedActivation.RELU;
    }
    if (activation instanceof ActivationReLU6) {
      return FusedActivation.RELU6;
    }
    throw new IllegalStateException("integer kernel " + integerKernel + " with activation " + activation
        + ": only identity, relu and relu6 are fused activations of int8 kernels");
  }

  @Override
  public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
    if (!enabled) {
      return activation.backprop(in, epsilon);
    }
    QuantParams pIn = inputParams();
    QuantParams pOut = outputParams();
    // DL4J lets an activation overwrite its input in backprop (the built-in ones write the gradient into it).
    INDArray inMask = null;
    if (pIn != null) {
      inMask = passMask(in, pIn);
      fakeQuantizeInPlace(in, pIn);
    }
    INDArray eps = epsilon;
    if (pOut != null) {
      // d fq(y) / dy = 1 inside the representable range, 0 outside; y is the float activation output.
      INDArray y = activation.getActivation(in.dup(), true);
      eps = epsilon.mul(passMask(y, pOut));
    }
    INDArray dz = activation.backprop(in, eps).getFirst();
    if (inMask != null) {
      dz.muli(inMask);
    }
    return new Pair<>(dz, null);
  }

  /** {@code a[i] = p.dequantize(p.quantize(a[i]))}, the exporter's own int8 rounding, as whole-array ops. */
  static void fakeQuantizeInPlace(INDArray a, QuantParams p) {
    FakeQuantOps.fakeQuantizeInPlace(a, p, QMIN, QMAX);
  }

  /** 1 where {@code a} lies in {@code [p.dequantize(-128), p.dequantize(127)]}, else 0; in {@code a}'s type. */
  static INDArray passMask(INDArray a, QuantParams p) {
    return FakeQuantOps.passMask(a, p.dequantize(QMIN), p.dequantize(QMAX));
  }

  /** A copy of {@code a}'s values as float32, row-major. */
  static float[] floats(INDArray a) {
    return a.dup('c').castTo(DataType.FLOAT).reshape(a.length()).toFloatVector();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FakeQuantActivation f && f.enabled == enabled && Objects.equals(f.activation, activation)
        && Arrays.equals(f.inputRange, inputRange) && Arrays.equals(f.outputRange, outputRange)
        && f.integerKernel == integerKernel && Arrays.equals(f.kernelInputRange, kernelInputRange);
  }

  @Override
  public int hashCode() {
    return Objects.hash(activation, enabled, Arrays.hashCode(inputRange), Arrays.hashCode(outputRange),
        integerKernel, Arrays.hashCode(kernelInputRange));
  }

  @Override
  public String toString() {
    return "fakequant(" + activation + (inputRange == null ? "" : ", in " + Arrays.toString(inputRange))
        + (outputRange == null ? "" : ", out " + Arrays.toString(outputRange))
        + (integerKernel == null ? "" : ", " + integerKernel + " reading " + Arrays.toString(kernelInputRange))
        + (enabled ? "" : ", disabled") + ")";
  }
}
