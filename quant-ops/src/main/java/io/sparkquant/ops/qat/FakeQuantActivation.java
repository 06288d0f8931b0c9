package io.sparkquant.ops.qat;

import io.sparkquant.ops.numerics.QuantParams;
import java.util.Arrays;
import java.util.Objects;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

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
    if (pIn != null) {
      fakeQuantizeInPlace(in, pIn);
    }
    INDArray out = activation.getActivation(in, training);
    QuantParams pOut = outputParams();
    if (pOut != null) {
      fakeQuantizeInPlace(out, pOut);
    }
    return out;
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
        && Arrays.equals(f.inputRange, inputRange) && Arrays.equals(f.outputRange, outputRange);
  }

  @Override
  public int hashCode() {
    return Objects.hash(activation, enabled, Arrays.hashCode(inputRange), Arrays.hashCode(outputRange));
  }

  @Override
  public String toString() {
    return "fakequant(" + activation + (inputRange == null ? "" : ", in " + Arrays.toString(inputRange))
        + (outputRange == null ? "" : ", out " + Arrays.toString(outputRange)) + (enabled ? "" : ", disabled") + ")";
  }
}
