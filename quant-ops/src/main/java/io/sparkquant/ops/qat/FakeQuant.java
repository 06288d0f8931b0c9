package io.sparkquant.ops.qat;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The fake-quant hooks of a DL4J network: switching simulation on and off, finding the hooks to set their ranges,
 * and the BatchNormalization check.
 *
 * <p>The hooks live in the layer configurations, which the network's layers share (one object per layer, also the
 * one {@code toJson} and ModelSerializer write): a range set here is what the next forward pass uses and what a
 * saved model keeps.
 */
public final class FakeQuant {

  private FakeQuant() {}

  /** Every layer configuration of a MultiLayerNetwork or ComputationGraph, in layer order. */
  public static List<Layer> layerConfs(Model model) {
    org.deeplearning4j.nn.api.Layer[] layers;
    if (model instanceof MultiLayerNetwork mln) {
      layers = mln.getLayers();
    } else if (model instanceof ComputationGraph cg) {
      layers = cg.getLayers();
    } else {
      throw new IllegalArgumentException("expected MultiLayerNetwork or ComputationGraph, got "
          + model.getClass().getName());
    }
    List<Layer> confs = new ArrayList<>();
    for (org.deeplearning4j.nn.api.Layer l : layers) {
      confs.add(l.conf().getLayer());
    }
    return confs;
  }

  /** The activation fake-quantizer of a layer, or null if it has none. */
  public static FakeQuantActivation activation(Layer conf) {
    if (conf instanceof BaseLayer b && b.getActivationFn() instanceof FakeQuantActivation f) {
      return f;
    }
    if (conf instanceof ActivationLayer a && a.getActivationFn() instanceof FakeQuantActivation f) {
      return f;
    }
    return null;
  }

  /** The weight fake-quantizer of a layer, or null if it has none. */
  public static FakeQuantWeights weights(Layer conf) {
    return conf instanceof BaseLayer b && b.getWeightNoise() instanceof FakeQuantWeights w ? w : null;
  }

  /** The input fake-quantizers (preprocessors) of a MultiLayerNetwork or ComputationGraph. */
  public static List<FakeQuantInputPreProcessor> inputQuantizers(Model model) {
    List<InputPreProcessor> pre = new ArrayList<>();
    if (model instanceof MultiLayerNetwork mln) {
      pre.addAll(mln.getLayerWiseConfigurations().getInputPreProcessors().values());
    } else if (model instanceof ComputationGraph cg) {
      for (GraphVertex v : cg.getConfiguration().getVertices().values()) {
        if (v instanceof LayerVertex lv) {
          pre.add(lv.getPreProcessor());
        }
      }
    }
    List<FakeQuantInputPreProcessor> out = new ArrayList<>();
    for (InputPreProcessor p : pre) {
      if (p instanceof FakeQuantInputPreProcessor f) {
        out.add(f);
      }
    }
    return out;
  }

  /**
   * Sets the range of every input fake-quantizer of the model (a ComputationGraph may have one per input consumer).
   *
   * @return the number of quantizers set
   */
  public static int setInputRange(Model model, float min, float max) {
    List<FakeQuantInputPreProcessor> qs = inputQuantizers(model);
    for (FakeQuantInputPreProcessor q : qs) {
      q.setRange(min, max);
    }
    return qs.size();
  }

  /**
   * Turns every fake-quant hook of the model on or off (input, activations, weights); off, the network computes
   * exactly what the same layers without hooks compute.
   *
   * @return the number of hooks switched
   */
  public static int setEnabled(Model model, boolean enabled) {
    int n = 0;
    for (Layer conf : layerConfs(model)) {
      FakeQuantActivation a = activation(conf);
      if (a != null) {
        a.setEnabled(enabled);
        n++;
      }
      FakeQuantWeights w = weights(conf);
      if (w != null) {
        w.setEnabled(enabled);
        n++;
      }
    }
    for (FakeQuantInputPreProcessor p : inputQuantizers(model)) {
      p.setEnabled(enabled);
      n++;
    }
    return n;
  }

  /**
   * Fails if a BatchNormalization layer follows a layer whose weights are fake-quantized: the exporter quantizes the
   * folded weights {@code W * gamma / sqrt(var + eps)}, not {@code W}, so the simulation would quantize other
   * weights than the ones that ship. Fold BatchNorm first (the graph IR holds folded weights).
   */
  public static void requireFoldedBatchNorm(MultiLayerNetwork net) {
    List<NeuralNetConfiguration> confs = net.getLayerWiseConfigurations().getConfs();
    for (int i = 1; i < confs.size(); i++) {
      Layer prev = confs.get(i - 1).getLayer();
      if (confs.get(i).getLayer() instanceof BatchNormalization && weights(prev) != null) {
        throw new IllegalArgumentException("layer " + (i - 1) + " '" + prev.getLayerName() + "' ("
            + prev.getClass().getSimpleName() + ") has fake-quantized weights and is followed by BatchNormalization"
            + " layer " + i + " '" + confs.get(i).getLayer().getLayerName() + "': the exporter quantizes the folded "
            + "weights, so fold BatchNormalization into the layer before fake quantization");
      }
    }
  }
}
