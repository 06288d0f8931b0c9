package io.sparkquant.ops.interp;

import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.Arrays;

/**
 * What an op's prepare sees (TFLite's TfLiteContext + TfLiteNode at Prepare): the operator, its tensors'
 * declarations and the decoded constants. Failures are {@link InvalidModelException}s (UNSUPPORTED for a type
 * combination outside the op's registration) that the interpreter prefixes with the operator's index and name.
 */
final class OpContext {

  static final int INT8_MIN = Byte.MIN_VALUE;
  static final int INT8_MAX = Byte.MAX_VALUE;
  static final int INT16_MIN = Short.MIN_VALUE;
  static final int INT16_MAX = Short.MAX_VALUE;

  final TfliteOperator op;
  private final TfliteModel model;
  /** Decoded constants by tensor index; null for activations. */
  private final Object[] constants;

  OpContext(TfliteModel model, Object[] constants, TfliteOperator op) {
    this.model = model;
    this.constants = constants;
    this.op = op;
  }

  /** TF_LITE_ENSURE(NumInputs(node) in [min, max]) and NumOutputs(node) == 1, as every kernel's Prepare. */
  void requireOperands(int minInputs, int maxInputs) {
    int n = op.inputs().length;
    if (n < minInputs || n > maxInputs) {
      throw new InvalidModelException("has " + n + " inputs, expected "
          + (minInputs == maxInputs ? String.valueOf(minInputs) : minInputs + ".." + maxInputs));
    }
    if (op.outputs().length != 1) {
      throw new InvalidModelException("has " + op.outputs().length + " outputs, expected 1");
    }
  }

  TfliteTensor input(int k) {
    if (k >= op.inputs().length || op.inputs()[k] < 0) {
      throw new InvalidModelException("missing input " + k);
    }
    return model.tensor(op.inputs()[k]);
  }

  /** Input {@code k}, or null when it is omitted (index -1 or past the end). */
  TfliteTensor optionalInput(int k) {
    return k < op.inputs().length && op.inputs()[k] >= 0 ? model.tensor(op.inputs()[k]) : null;
  }

  TfliteTensor output() {
    if (op.outputs().length != 1) {
      throw new InvalidModelException("has " + op.outputs().length + " outputs, expected 1");
    }
    return model.tensor(op.outputs()[0]);
  }

  <T extends OperatorOptions> T options(Class<T> type) {
    if (!type.isInstance(op.options())) {
      throw new InvalidModelException("expected " + type.getSimpleName() + " options, got " + op.options());
    }
    return type.cast(op.options());
  }

  /** The decoded value of input {@code k}, which must be a constant. */
  Object constant(int k) {
    Object c = constants[op.inputs()[k]];
    if (c == null) {
      throw new InvalidModelException("input " + k + " " + label(k) + " must be a constant");
    }
    return c;
  }

  /** The decoded value of input {@code k}, or null when it is omitted; a present input must be a constant. */
  Object optionalConstant(int k) {
    return optionalInput(k) == null ? null : constant(k);
  }

  /** The decoded value of input {@code k} if it is a constant, else null. */
  Object constantOrNull(int k) {
    return constants[op.inputs()[k]];
  }

  /** "tensor 5 'conv/bias'" for input {@code k}. */
  String label(int k) {
    return "tensor " + op.inputs()[k] + " '" + model.tensor(op.inputs()[k]).name() + "'";
  }

  /**
   * The bias (input {@code k}) of an op with {@code channels} output channels: TFLite's
   * {@code NumElements(bias) == SizeOfDimension(filter, 0)} (conv.cc, fully_connected.cc; depthwise: dimension 3).
   */
  void requireBiasSize(int k, int channels) {
    TfliteTensor bias = optionalInput(k);
    if (bias != null && bias.elementCount() != channels) {
      throw new InvalidModelException("bias " + label(k) + " has " + bias.elementCount() + " elements "
          + Arrays.toString(bias.shape()) + ", expected " + channels + " (one per output channel)");
    }
  }

  /**
   * Per-channel filter quantization (kernel_util.cc PopulateConvolutionQuantizationParams): one scale, or exactly
   * one per output channel along {@code channelDimension}; int8 filters are symmetric (the integer kernels take
   * no filter zero point).
   */
  static void requireFilterQuantization(TfliteTensor filter, int channels, int channelDimension) {
    TfliteQuantization q = requireQuantization(filter);
    if (q.isPerChannel() && (q.scale().length != channels || q.quantizedDimension() != channelDimension)) {
      throw new InvalidModelException("filter '" + filter.name() + "' has " + q.scale().length
          + " per-channel scales along dimension " + q.quantizedDimension() + ", expected " + channels
          + " along dimension " + channelDimension);
    }
    for (long zp : q.zeroPoint()) {
      if (zp != 0) {
        throw new InvalidModelException("filter '" + filter.name() + "' has zero point " + zp
            + ", expected 0 (symmetric int8 weights)");
      }
    }
  }

  /**
   * The bias scale of a quantized op: TFLite's GetQuantizedConvolutionMultipler requires
   * {@code |inputScale * filterScale - biasScale| <= 1e-6 * min(...)}: the int32 bias is added unscaled, so a bias
   * quantized with another scale would give another answer.
   */
  static void requireBiasScale(TfliteTensor bias, float inputScale, float[] filterScales) {
    if (bias == null) {
      return;
    }
    TfliteQuantization q = requireQuantization(bias);
    if (q.scale().length != filterScales.length && filterScales.length != 1) {
      return; // a per-tensor bias scale beside per-channel filter scales: TFLite does not compare them either
    }
    for (int c = 0; c < q.scale().length; c++) {
      double product = (double) inputScale * filterScales[filterScales.length == 1 ? 0 : c];
      double biasScale = q.scale()[c];
      if (Math.abs(product - biasScale) > 1e-6 * Math.min(product, biasScale)) {
        throw new InvalidModelException("bias '" + bias.name() + "' scale[" + c + "] = " + q.scale()[c]
            + ", expected input scale x filter scale = " + (float) product);
      }
    }
  }

  /** The per-tensor scale of an activation (TFLite's kernels read params.scale, one value). */
  static float scale(TfliteTensor t) {
    return requirePerTensor(t).scale()[0];
  }

  static int zeroPoint(TfliteTensor t) {
    return (int) requirePerTensor(t).zeroPoint()[0];
  }

  private static TfliteQuantization requirePerTensor(TfliteTensor t) {
    TfliteQuantization q = requireQuantization(t);
    if (q.isPerChannel()) {
      throw new InvalidModelException("tensor '" + t.name() + "' has " + q.scale().length
          + " scales, expected one (per-tensor quantization)");
    }
    return q;
  }

  static TfliteQuantization requireQuantization(TfliteTensor t) {
    if (t.quantization() == null) {
      throw new InvalidModelException("tensor '" + t.name() + "' of type " + t.type()
          + " has no quantization parameters");
    }
    return t.quantization();
  }

  static void requireZeroPoint0(TfliteTensor t) {
    if (zeroPoint(t) != 0) {
      throw new InvalidModelException("int16 tensor '" + t.name() + "' must have zero point 0, got "
          + zeroPoint(t));
    }
  }

  static InvalidModelException typeError(String what) {
    return InvalidModelException.unsupported("unsupported type combination " + what);
  }

  static String types(TfliteTensor... ts) {
    StringBuilder sb = new StringBuilder();
    for (TfliteTensor t : ts) {
      sb.append(sb.length() == 0 ? "" : ", ").append(t == null ? "none" : t.type());
    }
    return sb.toString();
  }
}
