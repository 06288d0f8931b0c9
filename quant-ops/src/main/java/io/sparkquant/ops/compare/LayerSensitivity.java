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
 * quantization adds, from a per-tensor error report of the fully quantized model: the SQNR drop from a node's
 * input tensor to its output tensor. Per-tensor SQNR falls along the graph as errors accumulate, so the drop, not
 * the SQNR itself, isolates what one layer contributes. An exact tensor (no error) counts as {@link #EXACT_DB}.
 */
public final class LayerSensitivity {

  /** The SQNR given to a tensor with zero error, so drops stay finite. */
  public static final double EXACT_DB = 150;

  private LayerSensitivity() {}

  /** A weight node and its SQNR drop in dB (larger = more sensitive). */
  public record Ranked(String node, String output, double sqnrDropDb) {}

  /** Weight nodes, most sensitive first (ties by graph order). */
  public static List<Ranked> rank(Graph graph, List<LayerError> errors) {
    Map<String, Double> sqnr = new HashMap<>();
    for (LayerError e : errors) {
      sqnr.put(e.tensor(), e.sqnrDb() == null ? EXACT_DB : Math.min(e.sqnrDb(), EXACT_DB));
    }
    List<Ranked> ranked = new ArrayList<>();
    for (Node n : graph.nodes()) {
      if (!(n instanceof Node.Conv2D || n instanceof Node.DepthwiseConv2D || n instanceof Node.FullyConnected)) {
        continue;
      }
      Double in = sqnr.get(n.inputs().get(0));
      Double out = sqnr.get(n.output());
      if (in == null || out == null) {
        throw new IllegalArgumentException("the error report has no tensor '" + (in == null ? n.inputs().get(0)
            : n.output()) + "' of node '" + n.name() + "'; was it made for this graph?");
      }
      ranked.add(new Ranked(n.name(), n.output(), in - out));
    }
    ranked.sort(Comparator.comparingDouble(Ranked::sqnrDropDb).reversed());
    return ranked;
  }
}
