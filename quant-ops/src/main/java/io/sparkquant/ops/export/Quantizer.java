package io.sparkquant.ops.export;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.compare.LayerComparison;
import io.sparkquant.ops.compare.LayerSensitivity;
import io.sparkquant.ops.compare.TensorErrorStats;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.tflite.TfliteWriter;
import io.sparkquant.ops.tflite.TfliteModel;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quantization as a library call: an imported {@link Graph}, its activation ranges and a {@link Config} give the
 * .tflite bytes and the model card. With {@code keepFloat > 0} the weight layers are first ranked by the error
 * their quantization adds ({@link LayerSensitivity}) on rows the caller streams in, and the most sensitive ones
 * are kept in float. No Spark and no file system: the caller reads the inputs and writes the outputs.
 */
public final class Quantizer {

  private static final Logger LOG = LoggerFactory.getLogger(Quantizer.class);

  private Quantizer() {}

  /**
   * What to export.
   *
   * @param floatNodes graph nodes kept in float (empty for none); exclusive with {@code keepFloat}
   * @param keepFloat keep this many of the most sensitive weight layers in float (0 = none); needs ranking rows
   * @param sourceModelSha256 hex SHA-256 of the source model, or null; written into the model's provenance
   * @param perTensorWeights int8 only: one weight scale per conv/depthwise tensor ({@link ExportOptions})
   */
  public record Config(ExportMode mode, ExportOptions.IoType io, Set<String> floatNodes, int keepFloat,
      String sourceModelSha256, String projectVersion, boolean perTensorWeights) {

    public Config {
      if (mode == null) {
        throw new IllegalArgumentException("mode is required; valid: float32, float16, dynamic, int8, int16x8");
      }
      io = io == null ? ExportOptions.IoType.FLOAT : io;
      floatNodes = floatNodes == null ? Set.of() : Set.copyOf(floatNodes);
      if (keepFloat < 0) {
        throw new IllegalArgumentException("keepFloat must be >= 0, got " + keepFloat);
      }
      if ((keepFloat > 0 || !floatNodes.isEmpty()) && !mode.needsRanges()) {
        throw new IllegalArgumentException("layers can only be kept in float inside an int8 or int16x8 model; mode "
            + mode.cliName() + " has no integer layers");
      }
      if (keepFloat > 0 && !floatNodes.isEmpty()) {
        throw new IllegalArgumentException("give either keepFloat or floatNodes, not both");
      }
      if (perTensorWeights && mode != ExportMode.INT8) {
        throw new IllegalArgumentException("per-tensor weights are only valid with mode int8, got mode "
            + mode.cliName());
      }
    }

    /** A config with per-channel conv/depthwise weights. */
    public Config(ExportMode mode, ExportOptions.IoType io, Set<String> floatNodes, int keepFloat,
        String sourceModelSha256, String projectVersion) {
      this(mode, io, floatNodes, keepFloat, sourceModelSha256, projectVersion, false);
    }
  }

  /** A batch of float input rows, {@code rows x item size} values, NHWC row-major. */
  public record InputBatch(float[] values, int rows) {}

  /**
   * The exported model.
   *
   * @param ranking weight layers, most sensitive first, when {@code keepFloat > 0}; else null
   * @param card the model card (JSON-ready), see {@link #cardJson()}
   */
  public record Result(TfliteModel model, byte[] tflite, int float32SizeBytes, ExportOptions options,
      List<LayerSensitivity.Ranked> ranking, Map<String, Object> card) {

    public byte[] cardJson() {
      return ModelCard.toJson(card);
    }
  }

  /**
   * Exports {@code graph}.
   *
   * @param ranges activation ranges, required iff the mode is int8 or int16x8 (else ignored)
   * @param rankingRows the rows the keep-float ranking observes (the calibration sample), or null if
   *     {@code keepFloat == 0}
   * @param provenance entries appended to the model card (source paths, calibration, creation time)
   */
  public static Result quantize(Graph graph, ActivationRanges ranges, Config config, Iterator<InputBatch> rankingRows,
      Map<String, Object> provenance) {
    if (config.mode().needsRanges() && ranges == null) {
      throw new IllegalArgumentException("mode " + config.mode().cliName() + " needs activation ranges from "
          + "calibration");
    }
    if (config.keepFloat() > 0 && rankingRows == null) {
      throw new IllegalArgumentException("keepFloat " + config.keepFloat() + " ranks layers on calibration rows; "
          + "none given");
    }
    ExportOptions options = new ExportOptions(config.mode(), config.io(),
        config.mode().needsRanges() ? ranges : null, config.sourceModelSha256(), config.projectVersion(), Set.of(),
        config.perTensorWeights());
    TfliteModel float32 = TfliteExporter.export(graph, ExportOptions.of(ExportMode.FLOAT32));
    List<LayerSensitivity.Ranked> ranking = null;
    if (config.keepFloat() > 0) {
      ranking = rankLayers(graph, float32, TfliteExporter.export(graph, options), rankingRows);
      if (config.keepFloat() > ranking.size()) {
        throw new IllegalArgumentException("keepFloat " + config.keepFloat() + " exceeds the " + ranking.size()
            + " weight layers of the model");
      }
      options = options.withFloatNodes(ranking.stream().limit(config.keepFloat()).map(LayerSensitivity.Ranked::node)
          .collect(Collectors.toSet()));
    } else if (!config.floatNodes().isEmpty()) {
      options = options.withFloatNodes(config.floatNodes());
    }
    TfliteModel tflite = TfliteExporter.export(graph, options);
    byte[] bytes = TfliteWriter.write(tflite);
    // The float32 size the card compares against is that of the plain float32 export (no provenance metadata).
    int float32SizeBytes = config.mode() == ExportMode.FLOAT32 ? bytes.length
        : TfliteWriter.write(float32).length;

    Map<String, Object> extra = new LinkedHashMap<>();
    extra.put("float32SizeBytes", float32SizeBytes);
    extra.put("sizeRatioToFloat32", bytes.length / (double) float32SizeBytes);
    extra.putAll(provenance);
    extra.put("floatNodes", List.copyOf(options.floatNodes()));
    if (config.mode() != ExportMode.FLOAT32 && config.mode() != ExportMode.FLOAT16) {
      // Conv/depthwise weight scales: per-tensor models suit delegates that reject per-channel scales.
      extra.put("convWeightScales", options.perTensorWeights() ? "per-tensor" : "per-channel");
    }
    if (ranking != null) {
      extra.put("layerSensitivity", ranking);
    }
    Map<String, Object> card = ModelCard.describe(tflite, bytes.length, extra);
    return new Result(tflite, bytes, float32SizeBytes, options, ranking, card);
  }

  /**
   * Ranks weight layers by the error their quantization adds: runs the float32 and the fully quantized model on
   * the rows and compares them tensor by tensor ({@link LayerComparison}).
   */
  static List<LayerSensitivity.Ranked> rankLayers(Graph graph, TfliteModel float32, TfliteModel quantized,
      Iterator<InputBatch> rows) {
    long t0 = System.nanoTime();
    LayerComparison comparison = LayerComparison.of(float32, quantized);
    TensorErrorStats stats = TensorErrorStats.empty(comparison.tensors().size());
    while (rows.hasNext()) {
      InputBatch b = rows.next();
      comparison.observe(b.values(), b.rows(), stats);
    }
    if (stats.rows() == 0) {
      throw new IllegalArgumentException("no rows to rank the layers on");
    }
    List<LayerSensitivity.Ranked> ranking = LayerSensitivity.rank(graph, comparison.result(stats));
    LOG.info("Layer sensitivity on {} rows in {} ms (most sensitive first): {}", stats.rows(),
        (System.nanoTime() - t0) / 1_000_000, ranking);
    return ranking;
  }
}
