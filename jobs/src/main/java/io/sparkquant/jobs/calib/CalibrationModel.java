package io.sparkquant.jobs.calib;

import io.sparkquant.jobs.spark.ExecutorCache;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Supplier;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** The float model calibration runs on an executor: a DL4J instance and its imported graph (shared, immutable). */
record CalibrationModel(Model model, Graph graph) {

  /**
   * Leases an instance of the model whose bytes hash to {@code sha256} from the executor's cache; {@code bytes} is
   * only read on a miss. Instances for concurrent tasks are clones (a parameter copy, far cheaper than the zip).
   *
   * @param graph the graph to observe on the model (read on a miss), or null to import the model's own
   */
  static ExecutorCache.Lease<CalibrationModel> lease(String sha256, Supplier<byte[]> bytes, Supplier<Graph> graph,
      int[] inputShape) {
    return ExecutorCache.lease("calibration/" + sha256, () -> load(bytes.get(), graph == null ? null : graph.get(),
        inputShape), CalibrationModel::copy);
  }

  private CalibrationModel copy() {
    Model clone = model instanceof MultiLayerNetwork mln ? mln.clone() : ((ComputationGraph) model).clone();
    return new CalibrationModel(clone, graph);
  }

  private static CalibrationModel load(byte[] bytes, Graph graph, int[] inputShape) {
    try {
      Model model = Dl4jImporter.load(bytes);
      return new CalibrationModel(model, graph != null ? graph : Dl4jImporter.importModel(model, inputShape));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restore the broadcast DL4J model", e);
    }
  }
}
