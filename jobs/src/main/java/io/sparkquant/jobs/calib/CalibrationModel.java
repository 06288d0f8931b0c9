package io.sparkquant.jobs.calib;

import io.sparkquant.jobs.spark.ExecutorCache;
import io.sparkquant.ops.export.ExportMode;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.GraphTensor;
import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.util.function.Supplier;

/**
 * The float model calibration runs on an executor: the interpreter of the graph's float32 export (BatchNorm folded,
 * activations fused, the tensors the int8 export quantizes) and the index of each observed tensor in it.
 *
 * @param tensors the export's index of each graph tensor, in the order of the names the model was leased with
 */
record CalibrationModel(Interpreter interpreter, int[] tensors) {

  /** The graph's tensor names: the names the exporter gives their tensors and the keys of the calibration table. */
  static String[] tensorNames(Graph graph) {
    return graph.tensors().stream().map(GraphTensor::name).toArray(String[]::new);
  }

  /**
   * The float32 export of {@code graph}, as .tflite bytes to broadcast; checked on the driver to hold every graph
   * tensor under its graph name and to be runnable, so a model the interpreter cannot run fails before any task.
   */
  static byte[] export(Graph graph) {
    TfliteModel model = TfliteExporter.export(graph, ExportOptions.of(ExportMode.FLOAT32));
    byte[] bytes = TfliteWriter.write(model);
    load(bytes, tensorNames(graph));
    return bytes;
  }

  /**
   * Leases the model whose .tflite bytes hash to {@code sha256} from the executor's cache; {@code bytes} is only
   * read on a miss. An interpreter is immutable and safe for concurrent runs, so every task of the JVM shares one.
   */
  static ExecutorCache.Lease<CalibrationModel> lease(String sha256, Supplier<byte[]> bytes, String[] names) {
    return ExecutorCache.lease("calibration/" + sha256, () -> load(bytes.get(), names), shared -> shared);
  }

  private static CalibrationModel load(byte[] tflite, String[] names) {
    Interpreter interpreter = new Interpreter(TfliteReader.read(tflite));
    int[] indices = new int[names.length];
    for (int i = 0; i < names.length; i++) {
      indices[i] = interpreter.tensorIndex(names[i]);
    }
    return new CalibrationModel(interpreter, indices);
  }
}
