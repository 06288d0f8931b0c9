package io.sparkquant.ops.qat;

import io.sparkquant.ops.numerics.QuantParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Fake quantization of the network input, as the exporter quantizes the input tensor (QUANTIZE of the float input,
 * or the int8 input itself): per tensor, {@code QuantParams.int8Activation(min, max)}, then layer 0's own
 * preprocessor, if it had one (e.g. the FeedForwardToCnnPreProcessor of {@code InputType.convolutionalFlat}).
 *
 * <p>A preprocessor rather than a first ActivationLayer: in inference DL4J hands layer 0 the caller's own input
 * array, which an in-place activation would overwrite, and the detached result then fails DL4J's workspace checks.
 * This works on a copy in the activation workspace.
 */
public final class FakeQuantInputPreProcessor implements InputPreProcessor {

  private static final long serialVersionUID = 1L;

  private float[] range;
  private InputPreProcessor inner;
  private boolean enabled = true;

  /** For DL4J's JSON deserializer; a range must be set before use. */
  public FakeQuantInputPreProcessor() {}

  /**
   * @param inner the layer's own preprocessor, applied after quantization, or null
   */
  public FakeQuantInputPreProcessor(float min, float max, InputPreProcessor inner) {
    setRange(min, max);
    this.inner = inner;
  }

  /**
   * Fake-quantizes the input of a built configuration: wraps layer 0's preprocessor (if any) in place.
   *
   * @return the installed preprocessor, whose range can be refreshed later
   */
  public static FakeQuantInputPreProcessor install(MultiLayerConfiguration conf, float min, float max) {
    InputPreProcessor existing = conf.getInputPreProcess(0);
    if (existing instanceof FakeQuantInputPreProcessor) {
      throw new IllegalArgumentException("layer 0 already has an input fake-quantizer: " + existing);
    }
    FakeQuantInputPreProcessor p = new FakeQuantInputPreProcessor(min, max, existing);
    conf.getInputPreProcessors().put(0, p);
    return p;
  }

  /**
   * Fake-quantizes the input of a built ComputationGraph configuration with one input: wraps the preprocessor of every
   * layer vertex that reads the input (all share one range; {@link FakeQuant#setInputRange} sets them together).
   *
   * @throws IllegalArgumentException if a vertex that is not a layer reads the input (it has no preprocessor)
   */
  public static List<FakeQuantInputPreProcessor> install(ComputationGraphConfiguration conf, float min, float max) {
    if (conf.getNetworkInputs().size() != 1) {
      throw new IllegalArgumentException("expected one network input, got " + conf.getNetworkInputs());
    }
    String input = conf.getNetworkInputs().get(0);
    List<FakeQuantInputPreProcessor> installed = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
      if (!e.getValue().contains(input)) {
        continue;
      }
      GraphVertex v = conf.getVertices().get(e.getKey());
      if (!(v instanceof LayerVertex lv)) {
        throw new IllegalArgumentException("vertex '" + e.getKey() + "' (" + v.getClass().getSimpleName()
            + ") reads the network input '" + input + "' directly; only layer vertices can fake-quantize it");
      }
      if (lv.getPreProcessor() instanceof FakeQuantInputPreProcessor) {
        throw new IllegalArgumentException("vertex '" + e.getKey() + "' already has an input fake-quantizer");
      }
      FakeQuantInputPreProcessor p = new FakeQuantInputPreProcessor(min, max, lv.getPreProcessor());
      lv.setPreProcessor(p);
      installed.add(p);
    }
    return installed;
  }

  public void setRange(float min, float max) {
    QuantParams.int8Activation(min, max); // rejects a non-finite or inverted range now
    range = new float[] {min, max};
  }

  public float[] getRange() {
    return range == null ? null : range.clone();
  }

  public InputPreProcessor getInner() {
    return inner;
  }

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public QuantParams params() {
    if (range == null) {
      throw new IllegalStateException("input fake-quantizer has no range; set one from calibration");
    }
    return QuantParams.int8Activation(range[0], range[1]);
  }

  @Override
  public INDArray preProcess(INDArray input, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
    INDArray x = input;
    if (enabled) {
      x = workspaceMgr.dup(ArrayType.ACTIVATIONS, input, 'c'); // never the caller's array
      FakeQuantActivation.fakeQuantizeInPlace(x, params());
    }
    return inner == null ? workspaceMgr.leverageTo(ArrayType.ACTIVATIONS, x)
        : inner.preProcess(x, miniBatchSize, workspaceMgr);
  }

  /** The input gradient passes unmasked: nothing upstream of the network input trains. */
  @Override
  public INDArray backprop(INDArray output, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
    return inner == null ? workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, output)
        : inner.backprop(output, miniBatchSize, workspaceMgr);
  }

  @Override
  public InputType getOutputType(InputType inputType) {
    return inner == null ? inputType : inner.getOutputType(inputType);
  }

  @Override
  public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState currentMaskState,
      int minibatchSize) {
    return inner == null ? new Pair<>(maskArray, currentMaskState)
        : inner.feedForwardMaskArray(maskArray, currentMaskState, minibatchSize);
  }

  @Override
  public FakeQuantInputPreProcessor clone() {
    FakeQuantInputPreProcessor c = new FakeQuantInputPreProcessor();
    c.range = range == null ? null : range.clone();
    c.inner = inner == null ? null : inner.clone();
    c.enabled = enabled;
    return c;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FakeQuantInputPreProcessor p && p.enabled == enabled && Arrays.equals(p.range, range)
        && Objects.equals(p.inner, inner);
  }

  @Override
  public int hashCode() {
    return Objects.hash(enabled, Arrays.hashCode(range), inner);
  }

  @Override
  public String toString() {
    return "FakeQuantInputPreProcessor(" + Arrays.toString(range) + (inner == null ? "" : ", then " + inner)
        + (enabled ? "" : ", disabled") + ")";
  }
}
