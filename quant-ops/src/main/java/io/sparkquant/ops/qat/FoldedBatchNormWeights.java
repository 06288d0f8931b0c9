package io.sparkquant.ops.qat;

import static io.sparkquant.ops.qat.FakeQuantActivation.floats;

import io.sparkquant.ops.graph.ConstTensor;
import java.util.Arrays;
import java.util.Objects;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.weightnoise.IWeightNoise;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Weight fake quantization of a convolution whose BatchNormalization is simulated with frozen statistics rather
 * than folded (QatNetwork's {@code FROZEN_STATISTICS} mode): the layer holds the unfolded weights {@code W}, a
 * per-channel layer after it holds the trainable {@code gamma} (and {@code beta}), and {@code std = sqrt(var + eps)}
 * is frozen here. Forward: the layer computes with {@code fq(W * gamma / std) / gamma}, so that the per-channel
 * scale by {@code gamma} after it yields {@code fq(Wf) * x} with {@code Wf = W * gamma / std}: the folded weights,
 * quantized per output channel exactly as the exporter quantizes the folded weights written back by
 * {@link #folded}. Backward: the gradient at those weights is applied to {@code W} (straight-through; the factor
 * {@code 1 / std} of the exact derivative is left out, a constant per-channel gradient scale Adam normalizes away).
 *
 * <p>{@code gamma} is a parameter of another layer: QatNetwork binds it after the network is built or reattached
 * ({@link #bind}); the binding is not serialized.
 */
public final class FoldedBatchNormWeights implements IWeightNoise {

  private static final long serialVersionUID = 1L;

  private float[] std = new float[0];
  private boolean perTensor;
  private boolean enabled = true;
  private transient INDArray gamma;

  /** For DL4J's JSON deserializer. */
  public FoldedBatchNormWeights() {}

  public FoldedBatchNormWeights(float[] std, boolean perTensor) {
    this.std = std.clone();
    this.perTensor = perTensor;
  }

  /** Reads {@code gamma} from this array (a view of the per-channel layer's weights) on every forward pass. */
  public void bind(INDArray gammaView) {
    if (gammaView.length() != std.length) {
      throw new IllegalArgumentException("gamma has " + gammaView.length() + " channels, the frozen statistics "
          + std.length);
    }
    this.gamma = gammaView;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public boolean isEnabled() {
    return enabled;
  }

  public float[] getStd() {
    return std.clone();
  }

  public void setStd(float[] std) {
    this.std = std.clone();
  }

  public boolean isPerTensor() {
    return perTensor;
  }

  public void setPerTensor(boolean perTensor) {
    this.perTensor = perTensor;
  }

  @Override
  public INDArray getParameter(Layer layer, String paramKey, int iteration, int epoch, boolean train,
      LayerWorkspaceMgr workspaceMgr) {
    org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
    INDArray param = layer.getParam(paramKey);
    if (!conf.initializer().isWeightParam(conf, paramKey)) {
      return param;
    }
    float[] g = gamma();
    float[] wf = folded(conf, param, g, std);
    float[] used = enabled ? quantize(conf, param.shape(), wf, perTensor) : wf;
    int channels = g.length;
    int inner = inner(conf, param.shape());
    for (int i = 0; i < used.length; i++) {
      used[i] /= g[channel(conf, i, inner, channels)];
    }
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      return Nd4j.createFromArray(used).reshape('c', param.shape()).castTo(param.dataType());
    }
  }

  private float[] gamma() {
    if (gamma == null) {
      throw new IllegalStateException("gamma is not bound: build or attach the network with QatNetwork");
    }
    return floats(gamma);
  }

  /** The folded weights {@code W * gamma[c] / std[c]} in the layer's own layout: what the export quantizes. */
  static float[] folded(org.deeplearning4j.nn.conf.layers.Layer conf, INDArray w, float[] gamma, float[] std) {
    float[] v = floats(w);
    int inner = inner(conf, w.shape());
    for (int i = 0; i < v.length; i++) {
      int c = channel(conf, i, inner, gamma.length);
      v[i] = v[i] * gamma[c] / std[c];
    }
    return v;
  }

  /** Fake-quantizes folded weights per output channel (or per tensor) as the exporter quantizes them. */
  static float[] quantize(org.deeplearning4j.nn.conf.layers.Layer conf, long[] shape, float[] wf,
      boolean perTensor) {
    if (!(conf instanceof DepthwiseConvolution2D) && conf.getClass() != ConvolutionLayer.class) {
      throw new IllegalArgumentException("layer '" + conf.getLayerName() + "' (" + conf.getClass().getSimpleName()
          + "): frozen BatchNorm statistics are supported after ConvolutionLayer and DepthwiseConvolution2D");
    }
    INDArray w = Nd4j.createFromArray(wf).reshape('c', shape);
    return FakeQuantWeights.fakeQuantize(conf, "W", w, perTensor).weights().dup('c').data().asFloat();
  }

  /** Elements per output channel run: conv {@code [out, in, kH, kW]} is channel-major, depthwise channel-minor. */
  private static int inner(org.deeplearning4j.nn.conf.layers.Layer conf, long[] shape) {
    return conf instanceof DepthwiseConvolution2D ? 1 : (int) (shape[1] * shape[2] * shape[3]);
  }

  private static int channel(org.deeplearning4j.nn.conf.layers.Layer conf, int i, int inner, int channels) {
    return conf instanceof DepthwiseConvolution2D ? i % channels : i / inner;
  }

  @Override
  public IWeightNoise clone() {
    FoldedBatchNormWeights c = new FoldedBatchNormWeights(std, perTensor);
    c.enabled = enabled;
    c.gamma = gamma;
    return c;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FoldedBatchNormWeights f && f.perTensor == perTensor && f.enabled == enabled
        && Arrays.equals(f.std, std);
  }

  @Override
  public int hashCode() {
    return Objects.hash(perTensor, enabled, Arrays.hashCode(std));
  }

  @Override
  public String toString() {
    return "foldedbatchnorm(" + std.length + " channels" + (perTensor ? ", per tensor" : "")
        + (enabled ? "" : ", disabled") + ")";
  }
}
