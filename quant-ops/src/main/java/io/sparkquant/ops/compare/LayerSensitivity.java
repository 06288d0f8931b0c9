package io.sparkquant.ops.compare;

import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.Node;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Ranks the weight layers (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) of a graph by how much error their
 * quantization adds, from a per-tensor error report of the fully quantized model: the noise-to-signal power ratio
 * of the node's output minus that of its input, {@code 10^(-SQNR_out/10) - 10^(-SQNR_in/10)}. Per-tensor SQNR
 * falls along the graph as errors accumulate, so the increase, not the SQNR itself, isolates one layer. The
 * difference is taken in linear power, not in dB: a first layer reading a near-exact input (SQNR ~140 dB) would
 * otherwise show a ~90 dB "drop" while adding less noise than any later layer (measured on the Fashion-MNIST CNN).
 */
public final class LayerSensitivity {

  private LayerSensitivity() {}

  /** A weight node, the SQNR of its input and output (null = exact), and the noise-to-signal ratio it adds. */
  public record Ranked(String node, String output, Double inputSqnrDb, Double outputSqnrDb,
      double addedNoiseToSignal) {}

  /** Weight nodes, most sensitive first (ties by graph order). */
  public static List<Ranked> rank(Graph graph, List<LayerError> errors) {
    Map<String, LayerError> byTensor = new HashMap<>();
    for (LayerError e : errors) {
      byTensor.put(e.tensor(), e);
    }
    List<Ranked> ranked = new ArrayList<>();
    for (Node n : graph.nodes()) {
      if (!(n instanceof Node.Conv2D || n instanceof Node.DepthwiseConv2D || n instanceof Node.FullyConnected)) {
        continue;
      }
      LayerError in = byTensor.get(n.inputs().get(0));
      LayerError out = byTensor.get(n.output());
      if (in == null || out == null) {
        throw new IllegalArgumentException("the error report has no tensor '" + (in == null ? n.inputs().get(0)
            : n.output()) + "' of node '" + n.name() + "'; was it made for this graph?");
      }
      ranked.add(new Ranked(n.name(), n.output(), in.sqnrDb(), out.sqnrDb(),
          noiseToSignal(out) - noiseToSignal(in)));
    }
    ranked.sort(Comparator.comparingDouble(Ranked::addedNoiseToSignal).reversed());
    return ranked;
  }

  /** Σ err² / Σ ref² (0 for an exact tensor, infinity for an all-zero reference with errors). */
  static double noiseToSignal(LayerError e) {
    return e.sumErrorSquared() == 0 ? 0 : e.sumErrorSquared() / e.sumReferenceSquared();
  }
}
