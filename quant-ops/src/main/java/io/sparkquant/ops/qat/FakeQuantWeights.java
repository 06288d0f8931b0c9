package io.sparkquant.ops.qat;

import io.sparkquant.ops.numerics.QuantParams;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.weightnoise.IWeightNoise;
import org.deeplearning4j.nn.params.SeparableConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Weight fake quantization through DL4J's weight-noise hook: the layer reads {@code dequantize(quantize(W))} for its
 * weight parameter (never its bias) in the forward pass and in backprop (DL4J caches the noisy weights of a training
 * forward pass for its backprop), while the gradient is applied to the float {@code W}: a straight-through estimator.
 *
 * <p>The quantization is the exporter's for int8 weights: symmetric, zero point 0, narrow range [-127, 127],
 * {@code scale = QuantParams.int8WeightScale(max|w|)} per output channel, {@code q = clamp(round(w / scale))} half
 * away from zero ({@link QuantParams#quantize}); the simulated weight is {@code scale * q} in float. Channels follow
 * the exported layouts (QUANT-SPEC.md): CONV_2D's output channel, DEPTHWISE_CONV_2D's {@code c * m + j}; DL4J's
 * weight layouts are read accordingly:
 * <ul>
 *   <li>ConvolutionLayer {@code W [out, in, kH, kW]}, SeparableConvolution2D pointwise {@code pW [out, in*m, 1, 1]}:
 *       channel = dimension 0;</li>
 *   <li>DepthwiseConvolution2D {@code W [kH, kW, in, m]}: channel = {@code c * m + j} from the last two
 *       dimensions;</li>
 *   <li>SeparableConvolution2D depthwise {@code W [m, in, kH, kW]}: channel = {@code c * m + j} from dimensions
 *       1, 0;</li>
 *   <li>DenseLayer / OutputLayer {@code W [in, out]}: per tensor always, because the exporter writes
 *       FULLY_CONNECTED with per-tensor weights.</li>
 * </ul>
 * With {@code perTensor} every layer uses one scale (for runtimes that accept only per-tensor weights). The maximum
 * of |w| does not depend on the element order, so the scales equal the exporter's although DL4J's layouts differ from
 * TFLite's.
 *
 * <p>The exporter quantizes the weights of its graph, where BatchNormalization is already folded
 * ({@code W * gamma / sqrt(var + eps)}): this hook quantizes the layer's own {@code W}, so it simulates the export
 * only for a layer that no BatchNormalization follows ({@link FakeQuant#requireFoldedBatchNorm}).
 *
 * <p>Each call hands the scales to the layer's own {@link FakeQuantActivation}, which runs next on the layer's
 * pre-activation: with an integer kernel set it needs them to recover the int32 accumulators
 * ({@link FakeQuantActivation#setIntegerKernel}); disabled, it hands over null (float weights, no integers).
 *
 * <p>Applied at inference too (DL4J passes {@code train == false}): the simulation is the deployed model either way.
 * The weights are computed as float32 (the exporter reads float32 weights) and returned in the parameter's type.
 */
public final class FakeQuantWeights implements IWeightNoise {

  private static final long serialVersionUID = 1L;

  /** False: the layer sees its float weights unchanged. */
  private boolean enabled = true;
  /** True: one scale for the whole tensor; false: the exporter's granularity (per channel except dense). */
  private boolean perTensor;

  /** Enabled, the exporter's per-channel granularity (also the form DL4J's JSON deserializer needs). */
  public FakeQuantWeights() {}

  public FakeQuantWeights(boolean perTensor) {
    this.perTensor = perTensor;
  }

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public boolean isPerTensor() {
    return perTensor;
  }

  @Override
  public INDArray getParameter(Layer layer, String paramKey, int iteration, int epoch, boolean train,
      LayerWorkspaceMgr workspaceMgr) {
    org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
    INDArray param = layer.getParam(paramKey);
    if (!conf.initializer().isWeightParam(conf, paramKey)) {
      return param;
    }
    FakeQuantActivation output = FakeQuant.activation(conf);
    if (!enabled) {
      if (output != null) {
        output.setFilterScales(null); // float weights: the layer's accumulators are not integers
      }
      return param;
    }
    // Detached, not in the INPUT workspace as DropConnect does: ComputationGraph inference asks for the weights
    // while that workspace is closed, and DL4J keeps the array of a training pass until its backprop.
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      Quantized q = fakeQuantize(conf, paramKey, param, perTensor);
      if (output != null) {
        // the layer's output hook runs next, on the accumulators of these weights (FakeQuantActivation's
        // integer kernel)
        output.setFilterScales(q.scales());
      }
      return q.weights().castTo(param.dataType());
    }
  }

  /**
   * Fake-quantized weights and their scales.
   *
   * @param weights float32, in the parameter's shape
   * @param scales one per exported channel (or one for the tensor), in the exported channel order
   */
  record Quantized(INDArray weights, float[] scales) {}

  /**
   * The fake-quantized values of a DL4J weight parameter, as float32 in its own shape: {@code scale[c] *
   * clamp(round(w / scale[c]), -127, 127)} with the exporter's symmetric int8 weight scales, and those scales.
   *
   * <p>Each layout is viewed as a 2-D array whose rows (or columns) hold exactly one exported channel's weights:
   * the per-channel maximum of |w|, and so the scale, does not depend on the order of the channel's elements.
   *
   * @throws IllegalArgumentException for a layer type the exporter does not quantize this way
   */
  static Quantized fakeQuantize(org.deeplearning4j.nn.conf.layers.Layer conf, String paramKey, INDArray param,
      boolean perTensor) {
    long[] s = param.shape();
    long rows;
    int channelAxis;
    if (conf instanceof SeparableConvolution2D) {
      // pointwise [out, in*m, 1, 1]: a row per output channel; depthwise [m, in, kH, kW]: a row per (j, c), which
      // is exported channel c * m + j
      rows = SeparableConvolutionParamInitializer.POINT_WISE_WEIGHT_KEY.equals(paramKey) ? s[0] : s[0] * s[1];
      channelAxis = 0;
    } else if (conf instanceof DepthwiseConvolution2D) {
      rows = s[0] * s[1]; // [kH, kW, in, m]: a column per channel c * m + j
      channelAxis = 1;
    } else if (conf.getClass() == ConvolutionLayer.class) {
      rows = s[0]; // [out, in, kH, kW]
      channelAxis = 0;
    } else if (conf instanceof DenseLayer || conf.getClass() == OutputLayer.class) {
      rows = 1; // the exporter writes FULLY_CONNECTED with per-tensor weights
      channelAxis = -1;
    } else {
      throw new IllegalArgumentException("layer '" + conf.getLayerName() + "' (" + conf.getClass().getSimpleName()
          + ") parameter '" + paramKey + "': weight fake quantization supports ConvolutionLayer, "
          + "DepthwiseConvolution2D, SeparableConvolution2D, DenseLayer and OutputLayer");
    }
    if (perTensor) {
      channelAxis = -1;
    }
    INDArray w = param.reshape('c', rows, param.length() / rows);
    float[] absMax = FakeQuantOps.absMax(w, channelAxis);
    float[] scales = new float[absMax.length];
    for (int c = 0; c < scales.length; c++) {
      scales[c] = QuantParams.int8WeightScale(absMax[c]);
    }
    return new Quantized(FakeQuantOps.fakeQuantizeSymmetric(w, channelAxis, scales, -127, 127).reshape('c', s),
        scales);
  }

  @Override
  public IWeightNoise clone() {
    FakeQuantWeights c = new FakeQuantWeights(perTensor);
    c.enabled = enabled;
    return c;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FakeQuantWeights f && f.enabled == enabled && f.perTensor == perTensor;
  }

  @Override
  public int hashCode() {
    return (enabled ? 1 : 0) + (perTensor ? 2 : 0);
  }

  @Override
  public String toString() {
    return "FakeQuantWeights(" + (enabled ? "enabled" : "disabled") + ", " + (perTensor ? "per tensor" : "per channel")
        + ")";
  }
}
