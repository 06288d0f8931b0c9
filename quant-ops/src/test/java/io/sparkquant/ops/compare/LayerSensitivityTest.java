package io.sparkquant.ops.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.GraphTensor;
import io.sparkquant.ops.graph.Node;
import io.sparkquant.ops.graph.TestModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ranking follows the noise each weight layer adds, not the SQNR drop in dB. */
class LayerSensitivityTest {

  static LayerError error(String tensor, double noiseToSignal) {
    double ref2 = 1000;
    double err2 = ref2 * noiseToSignal;
    return new LayerError(tensor, "OP", "INT8", 100, err2 == 0 ? null : 10 * Math.log10(ref2 / err2), 0, 0, 0, ref2,
        err2);
  }

  @Test
  void ranksByAddedNoiseToSignal() {
    Graph g = Dl4jImporter.importNetwork(TestModels.mlp(11)); // fc1 (BN folded, relu6) -> fc2 -> out
    List<Node> weights = g.nodes().stream().filter(n -> n instanceof Node.FullyConnected).toList();
    assertEquals(3, weights.size());
    // Noise grows along the graph: +1e-5 at the first layer (from an exact input: a 'drop' of infinite dB),
    // +1e-3 at the second, +1e-4 at the third.
    List<LayerError> errors = new ArrayList<>();
    double nsr = 0;
    for (GraphTensor t : g.tensors()) {
      Node producer = g.producer(t.name()).orElse(null);
      if (producer == weights.get(0)) {
        nsr += 1e-5;
      } else if (producer == weights.get(1)) {
        nsr += 1e-3;
      } else if (producer == weights.get(2)) {
        nsr += 1e-4;
      }
      errors.add(error(t.name(), nsr));
    }
    List<String> order = LayerSensitivity.rank(g, errors).stream().map(LayerSensitivity.Ranked::node).toList();
    assertEquals(List.of(weights.get(1).name(), weights.get(2).name(), weights.get(0).name()), order);
  }

  @Test
  void aReportForAnotherGraphIsRejected() {
    Graph g = Dl4jImporter.importNetwork(TestModels.mlp(11));
    assertThrows(IllegalArgumentException.class, () -> LayerSensitivity.rank(g, List.of(error("x", 0))));
  }
}
