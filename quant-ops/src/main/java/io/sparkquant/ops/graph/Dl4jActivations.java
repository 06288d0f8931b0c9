package io.sparkquant.ops.graph;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Observes the float value of every graph tensor on a batch, from one DL4J {@code feedForward(batch, false)} pass
 * (what calibration needs: the input and each op output after its fused activation, i.e. every tensor the int8
 * model quantizes).
 *
 * <p>Layout: every returned array has the graph tensor's NHWC shape with the batch size in front
 * ({@code [N, H, W, C]} or {@code [N, F]}). DL4J's NCHW activations are returned as permuted views (no copy), so
 * min/max and histograms see the same values; call {@code dup('c')} if you need contiguous NHWC memory.
 * Tensors DL4J does not expose ({@link Dl4jSource.Kind#DERIVED}: pre-activations before tanh/sigmoid/softmax,
 * separable convolutions' depthwise stage, flatten) are computed from their inputs with {@link FloatReference}.
 */
public final class Dl4jActivations {

  private Dl4jActivations() {}

  /**
   * @param dl4jInput a batch in the layout the DL4J model expects ({@link Graph#dl4jInputLayout()})
   * @return tensor name to value, in the graph's topological order
   */
  public static Map<String, INDArray> collect(Graph graph, Model model, INDArray dl4jInput) {
    int batch = (int) dl4jInput.size(0);
    List<INDArray> mlnActs = null;
    Map<String, INDArray> cgActs = null;
    // a copy: an ActivationLayer on the network input applies its activation in place at inference
    if (model instanceof MultiLayerNetwork mln) {
      mlnActs = mln.feedForward(dl4jInput.dup(), false);
    } else if (model instanceof ComputationGraph cg) {
      cgActs = cg.feedForward(dl4jInput.dup(), false);
    } else {
      throw new IllegalArgumentException("Unsupported DL4J model type " + model.getClass().getName());
    }
    Map<String, INDArray> out = new LinkedHashMap<>();
    Map<String, float[]> derivedInputs = new HashMap<>();
    for (GraphTensor t : graph.tensors()) {
      Dl4jSource s = t.source();
      INDArray value;
      switch (s.kind()) {
        case NETWORK_INPUT -> value = toNhwc(dl4jInput, t, graph.dl4jInputLayout(), batch);
        case ACTIVATION -> {
          INDArray a = mlnActs != null ? mlnActs.get(s.layerIndex() + 1) : cgActs.get(s.vertexName());
          if (a == null) {
            throw new IllegalStateException("DL4J did not return the activation of " + s + " for tensor "
                + t.name());
          }
          value = toNhwc(a, t, Dl4jInputLayout.NCHW, batch);
        }
        case DERIVED -> {
          Node node = graph.producer(t.name()).orElseThrow();
          Map<String, float[]> ins = new HashMap<>();
          for (String in : node.inputs()) {
            ins.put(in, derivedInputs.computeIfAbsent(in, k -> flat(out.get(k))));
          }
          float[] v = FloatReference.evalNode(graph, node, ins, batch);
          derivedInputs.put(t.name(), v);
          value = Nd4j.create(v, withBatch(t.shape(), batch), 'c');
        }
        default -> throw new IllegalStateException("unknown source " + s);
      }
      out.put(t.name(), value);
    }
    return out;
  }

  /** Converts an NHWC float batch (row-major, as stored in the Parquet features) to the DL4J model's input layout. */
  public static INDArray toDl4jInput(Graph graph, float[] nhwc, int batch) {
    GraphTensor in = graph.input();
    INDArray a = Nd4j.create(nhwc, withBatch(in.shape(), batch), 'c');
    return switch (graph.dl4jInputLayout()) {
      case FEED_FORWARD -> a;
      case NCHW -> a.permute(0, 3, 1, 2).dup('c');
      case FLAT_CHW -> a.permute(0, 3, 1, 2).dup('c').reshape('c', batch, in.itemSize());
    };
  }

  /**
   * Converts a batch whose rows are NHWC items ({@code [N, H, W, C]}, or {@code [N, H*W*C]} flattened in HWC order,
   * e.g. dataset-io's Layout.NHWC or Layout.FLAT) to the DL4J model's input layout.
   */
  public static INDArray toDl4jInput(Graph graph, INDArray nhwcRows) {
    int batch = (int) nhwcRows.size(0);
    if (nhwcRows.length() != (long) batch * graph.input().itemSize()) {
      throw new IllegalArgumentException("batch of shape " + java.util.Arrays.toString(nhwcRows.shape())
          + " does not hold items of the graph input " + graph.input());
    }
    return toDl4jInput(graph, flat(nhwcRows), batch);
  }

  private static INDArray toNhwc(INDArray a, GraphTensor t, Dl4jInputLayout layout, int batch) {
    INDArray f = a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
    if (t.rank() == 2) {
      return f.rank() == 2 ? f : f.reshape('c', batch, t.dim(1));
    }
    if (layout == Dl4jInputLayout.FLAT_CHW && f.rank() == 2) {
      f = f.reshape('c', batch, t.dim(3), t.dim(1), t.dim(2));
    }
    if (f.rank() != 4) {
      throw new IllegalStateException("tensor " + t + " expects a 4-D DL4J activation, got rank " + f.rank());
    }
    return f.permute(0, 2, 3, 1);
  }

  static float[] flat(INDArray a) {
    return a.dup('c').reshape(a.length()).toFloatVector();
  }

  static long[] withBatch(int[] shape, int batch) {
    long[] s = new long[shape.length];
    s[0] = batch;
    for (int i = 1; i < shape.length; i++) {
      s[i] = shape[i];
    }
    return s;
  }
}
