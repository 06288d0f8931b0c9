package io.sparkquant.ops.export;

import io.sparkquant.ops.calib.ActivationRanges;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * What to export: the mode, the model I/O type (only INT8 mode can have int8 I/O), the activation ranges (needed by
 * INT8 and INT16X8), the graph nodes kept in float inside an integer model, and provenance written into the model's
 * "sparkquant" metadata.
 *
 * @param sourceModelSha256 hex SHA-256 of the source model file, or null if unknown
 * @param projectVersion SparkQuant version that produced the model
 * @param floatNodes names of graph nodes computed in float (DEQUANTIZE before, QUANTIZE after, float weights);
 *     only for INT8 and INT16X8; empty for none
 * @param perTensorWeights INT8 only: CONV_2D and DEPTHWISE_CONV_2D weights get one symmetric scale per tensor
 *     instead of one per output channel, for accelerators and delegates that take only per-tensor scales
 */
public record ExportOptions(ExportMode mode, IoType io, ActivationRanges ranges, String sourceModelSha256,
    String projectVersion, Set<String> floatNodes, boolean perTensorWeights) {

  /** The type of the model's input and output tensors. */
  public enum IoType { FLOAT, INT8 }

  public ExportOptions {
    if (mode == null) {
      throw new IllegalArgumentException("mode is required; valid: float32, float16, dynamic, int8, int16x8");
    }
    io = io == null ? IoType.FLOAT : io;
    if (io == IoType.INT8 && mode != ExportMode.INT8) {
      throw new IllegalArgumentException("int8 model I/O is only valid with mode int8, got mode " + mode.cliName());
    }
    if (mode.needsRanges() && ranges == null) {
      throw new IllegalArgumentException("mode " + mode.cliName() + " needs activation ranges from calibration");
    }
    projectVersion = projectVersion == null ? "dev" : projectVersion;
    floatNodes = floatNodes == null ? Set.of() : Collections.unmodifiableSet(new TreeSet<>(floatNodes));
    if (!floatNodes.isEmpty() && !mode.needsRanges()) {
      throw new IllegalArgumentException("float nodes " + floatNodes + " can only be kept in an integer model "
          + "(int8, int16x8); mode " + mode.cliName() + " has no integer layers");
    }
    if (perTensorWeights && mode != ExportMode.INT8) {
      throw new IllegalArgumentException("per-tensor weights are only valid with mode int8, got mode "
          + mode.cliName());
    }
  }

  /** Options with per-channel conv/depthwise weights. */
  public ExportOptions(ExportMode mode, IoType io, ActivationRanges ranges, String sourceModelSha256,
      String projectVersion, Set<String> floatNodes) {
    this(mode, io, ranges, sourceModelSha256, projectVersion, floatNodes, false);
  }

  /** Options with no node kept in float. */
  public ExportOptions(ExportMode mode, IoType io, ActivationRanges ranges, String sourceModelSha256,
      String projectVersion) {
    this(mode, io, ranges, sourceModelSha256, projectVersion, Set.of());
  }

  public static ExportOptions of(ExportMode mode) {
    return new ExportOptions(mode, IoType.FLOAT, null, null, null);
  }

  public static ExportOptions int8(ActivationRanges ranges, IoType io) {
    return new ExportOptions(ExportMode.INT8, io, ranges, null, null);
  }

  public ExportOptions withRanges(ActivationRanges r) {
    return new ExportOptions(mode, io, r, sourceModelSha256, projectVersion, floatNodes, perTensorWeights);
  }

  public ExportOptions withProvenance(String sha256, String version) {
    return new ExportOptions(mode, io, ranges, sha256, version, floatNodes, perTensorWeights);
  }

  /** The same options keeping these graph nodes in float. */
  public ExportOptions withFloatNodes(Set<String> nodes) {
    return new ExportOptions(mode, io, ranges, sourceModelSha256, projectVersion, nodes, perTensorWeights);
  }

  /** The same options with per-tensor ({@code true}) or per-channel conv/depthwise weights. */
  public ExportOptions withPerTensorWeights(boolean perTensor) {
    return new ExportOptions(mode, io, ranges, sourceModelSha256, projectVersion, floatNodes, perTensor);
  }
}
