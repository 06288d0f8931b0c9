package io.sparkquant.ops.qat;

import static io.sparkquant.ops.qat.FakeQuantActivation.floats;

import io.sparkquant.ops.graph.ConstTensor;
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
    if (!enabled || !conf.initializer().isWeightParam(conf, paramKey)) {
      return param;
    }
    float[] fake = fakeQuantize(conf, paramKey, param, perTensor);
    // Detached, not in the INPUT workspace as DropConnect does: ComputationGraph inference asks for the weights
    // while that workspace is closed, and DL4J keeps the array of a training pass until its backprop.
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      return Nd4j.createFromArray(fake).reshape('c', param.shape()).castTo(param.dataType());
    }
  }

  /**
   * The fake-quantized values of a DL4J weight parameter, in its own layout (row-major).
   *
   * @throws IllegalArgumentException for a layer type the exporter does not quantize this way
   */
  static float[] fakeQuantize(org.deeplearning4j.nn.conf.layers.Layer conf, String paramKey, INDArray param,
      boolean perTensor) {
    long[] s = param.shape();
    if (conf instanceof SeparableConvolution2D) {
      if (SeparableConvolutionParamInitializer.POINT_WISE_WEIGHT_KEY.equals(paramKey)) {
        return fakeQuantize(channelsFirst(param, s[0]), perTensor ? -1 : 0);
      }
      // [m, in, kH, kW] -> [in, m, kH, kW]: channel c * m + j is then the leading index pair.
      INDArray inFirst = param.permute(1, 0, 2, 3).dup('c');
      float[] q = fakeQuantize(channelsFirst(inFirst, s[0] * s[1]), perTensor ? -1 : 0);
      return floats(Nd4j.createFromArray(q).reshape('c', s[1], s[0], s[2], s[3]).permute(1, 0, 2, 3));
    }
    if (conf instanceof DepthwiseConvolution2D) {
      ConstTensor w = new ConstTensor(new int[] {(int) (s[0] * s[1]), (int) (s[2] * s[3])}, floats(param));
      return fakeQuantize(w, perTensor ? -1 : 1);
    }
    if (conf.getClass() == ConvolutionLayer.class) {
      return fakeQuantize(channelsFirst(param, s[0]), perTensor ? -1 : 0);
    }
    if (conf instanceof DenseLayer || conf.getClass() == OutputLayer.class) {
      return fakeQuantize(ConstTensor.vector(floats(param)), -1);
    }
    throw new IllegalArgumentException("layer '" + conf.getLayerName() + "' (" + conf.getClass().getSimpleName()
        + ") parameter '" + paramKey + "': weight fake quantization supports ConvolutionLayer, "
        + "DepthwiseConvolution2D, SeparableConvolution2D, DenseLayer and OutputLayer");
  }

  /**
   * {@code scale[c] * clamp(round(w / scale[c]), -127, 127)} with the exporter's symmetric int8 weight scales, per
   * slice along {@code axis} or per tensor ({@code axis < 0}); the values stay in {@code w}'s order.
   */
  public static float[] fakeQuantize(ConstTensor w, int axis) {
    float[] scales = scales(w, axis);
    int[] shape = w.shape();
    int inner = 1;
    for (int i = axis + 1; axis >= 0 && i < shape.length; i++) {
      inner *= shape[i];
    }
    int n = axis < 0 ? 1 : shape[axis];
    QuantParams[] params = new QuantParams[scales.length];
    for (int c = 0; c < scales.length; c++) {
      params[c] = new QuantParams(scales[c], 0);
    }
    float[] data = w.data();
    float[] out = new float[data.length];
    for (int i = 0; i < data.length; i++) {
      QuantParams p = params[axis < 0 ? 0 : (i / inner) % n];
      out[i] = p.dequantize(p.quantize(data[i], -127, 127)); // w' = s * clamp(round(w / s))
    }
    return out;
  }

  /** The exporter's int8 weight scales: {@code int8WeightScale(max|w|)} per slice along {@code axis}, or one. */
  public static float[] scales(ConstTensor w, int axis) {
    if (axis < 0) {
      return new float[] {QuantParams.int8WeightScale(w.absMax())};
    }
    float[] s = new float[w.dim(axis)];
    for (int c = 0; c < s.length; c++) {
      s[c] = QuantParams.int8WeightScale(w.absMaxAlong(axis, c));
    }
    return s;
  }

  private static ConstTensor channelsFirst(INDArray param, long channels) {
    return new ConstTensor(new int[] {(int) channels, (int) (param.length() / channels)}, floats(param));
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
