package io.sparkquant.ops.calib;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.numerics.QuantParams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Per-tensor activation ranges and int8 parameters chosen from merged calibration statistics.
 *
 * <p>The JSON form ({@link #FORMAT}, version {@link #FORMAT_VERSION}) holds only what the statistics and the method
 * determine, with tensors sorted by name, so the same rows and method give the same bytes whatever the
 * partitioning; provenance (inputs, seed, partitions, version) goes in the job's manifest next to it. It may also
 * record the calibrated model's input shape ({@link #inputShape}), so a table alone is enough to export a model
 * that does not record its own.
 */
public final class CalibrationTable {

  public static final String FORMAT = "sparkquant.calibration-table";
  public static final int FORMAT_VERSION = 1;

  private final RangeMethod method;
  private final SortedMap<String, TensorCalibration> tensors;
  private final int[] inputShape;
  private final String modelFingerprint;

  private CalibrationTable(RangeMethod method, SortedMap<String, TensorCalibration> tensors, int[] inputShape) {
    this(method, tensors, inputShape, null);
  }

  private CalibrationTable(RangeMethod method, SortedMap<String, TensorCalibration> tensors, int[] inputShape,
      String modelFingerprint) {
    this.modelFingerprint = modelFingerprint;
    this.method = method;
    this.tensors = Collections.unmodifiableSortedMap(new TreeMap<>(tensors));
    this.inputShape = inputShape == null ? null : inputShape.clone();
  }

  /**
   * Chooses every tensor's range with {@code method}.
   *
   * @param minMax pass-1 statistics per tensor
   * @param histograms pass-2 histograms laid out from {@code minMax} ({@link BinLayout#forRange}); required iff
   *     {@code method.needsHistogram()}, else may be null
   * @throws IllegalArgumentException if there are no statistics, a tensor saw no value or a non-finite one, or a
   *     histogram is missing or disagrees with pass 1; the message names every offending tensor
   */
  public static CalibrationTable compute(RangeMethod method, ModelStats<MinMaxStats> minMax,
      ModelStats<HistogramStats> histograms) {
    if (minMax.isEmpty()) {
      throw new IllegalArgumentException("empty calibration statistics: no tensor was observed "
          + "(was the calibration set empty?)");
    }
    if (method.needsHistogram() && histograms == null) {
      throw new IllegalArgumentException("method '" + method.name() + "' needs histograms (pass 2), none given");
    }
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, MinMaxStats> e : minMax.tensors().entrySet()) {
      MinMaxStats s = e.getValue();
      if (s.nonFiniteCount() > 0) {
        problems.add("tensor '" + e.getKey() + "' has " + s.nonFiniteCount() + " NaN/Inf values among "
            + (s.count() + s.nonFiniteCount()) + " (expected all finite)");
      } else if (s.count() == 0) {
        problems.add("tensor '" + e.getKey() + "' saw no values");
      } else if (method.needsHistogram()) {
        HistogramStats h = histograms.get(e.getKey());
        if (h == null) {
          problems.add("tensor '" + e.getKey() + "' has no histogram");
        } else if (h.outOfRangeCount() > 0 || h.nonFiniteCount() > 0 || h.count() != s.count()) {
          problems.add("tensor '" + e.getKey() + "': the histogram pass saw " + h.count() + " values in range, "
              + h.outOfRangeCount() + " outside pass-1 [" + s.min() + ", " + s.max() + "] and "
              + h.nonFiniteCount() + " non-finite, but pass 1 saw " + s.count()
              + " (both passes must see the same rows and the model must compute them identically)");
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("cannot calibrate: " + String.join("; ", problems));
    }
    SortedMap<String, TensorCalibration> out = new TreeMap<>();
    for (Map.Entry<String, MinMaxStats> e : minMax.tensors().entrySet()) {
      MinMaxStats s = e.getValue();
      HistogramStats h = method.needsHistogram() ? histograms.get(e.getKey()) : null;
      ClipRange range = method.select(s, h);
      QuantParams params = range.int8Params();
      out.put(e.getKey(), new TensorCalibration(e.getKey(), s.count(), s.min(), s.max(),
          h == null ? null : HistogramSummary.of(h), method.name(), range, params.scale(), params.zeroPoint()));
    }
    return new CalibrationTable(method, out, null);
  }

  public RangeMethod method() {
    return method;
  }

  /** The calibrated model's input shape without the batch dimension (HWC or [F]), or null if not recorded. */
  public int[] inputShape() {
    return inputShape == null ? null : inputShape.clone();
  }

  /** This table recording the model's input shape (HWC or [F], no batch dimension). */
  public CalibrationTable withInputShape(int[] shape) {
    if (shape == null || shape.length == 0 || Arrays.stream(shape).anyMatch(d -> d < 1)) {
      throw new IllegalArgumentException("input shape must be HWC or [F] with positive dimensions, got "
          + Arrays.toString(shape));
    }
    return new CalibrationTable(method, tensors, shape, modelFingerprint);
  }

  /**
   * The {@code Graph.fingerprint()} of the model the table was computed on, or null for a table written before
   * tables recorded it.
   */
  public String modelFingerprint() {
    return modelFingerprint;
  }

  /**
   * Refuses a table computed on another model: ranges from a model of the same architecture and other weights have
   * the right tensor names and silently wrong values.
   *
   * @param fingerprint the {@code Graph.fingerprint()} of the model about to use the table
   * @param tableFile the table's file as the user named it, for the message
   * @param modelFile the model's file as the user named it, for the message
   * @return false when the table records no fingerprint (written before tables did), for the caller to warn
   * @throws IllegalArgumentException naming both files and both fingerprints
   */
  public boolean checkComputedOn(String fingerprint, String tableFile, String modelFile) {
    if (modelFingerprint == null) {
      return false;
    }
    if (!modelFingerprint.equals(fingerprint)) {
      throw new IllegalArgumentException("calibration table " + tableFile + " was computed on another model: it "
          + "records model fingerprint " + modelFingerprint + ", model " + modelFile + " has " + fingerprint
          + "; calibrate this model (sparkquant calibrate --model " + modelFile + ")");
    }
    return true;
  }

  /** This table recording the fingerprint of the model it was computed on ({@code Graph.fingerprint()}). */
  public CalibrationTable withModelFingerprint(String fingerprint) {
    if (fingerprint == null || !fingerprint.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("model fingerprint must be 64 lowercase hex digits (SHA-256), got "
          + fingerprint);
    }
    return new CalibrationTable(method, tensors, inputShape, fingerprint);
  }

  /** Tensor name -> calibration, sorted by name. */
  public SortedMap<String, TensorCalibration> tensors() {
    return tensors;
  }

  /** The calibration of {@code tensor}; throws naming the known tensors if absent. */
  public TensorCalibration tensor(String tensor) {
    TensorCalibration t = tensors.get(tensor);
    if (t == null) {
      throw new IllegalArgumentException("no calibration for tensor '" + tensor + "'; the table has "
          + tensors.keySet());
    }
    return t;
  }

  /** Tensor name -> chosen range, in name order. */
  public Map<String, ClipRange> ranges() {
    Map<String, ClipRange> ranges = new LinkedHashMap<>();
    tensors.forEach((name, t) -> ranges.put(name, t.range()));
    return ranges;
  }

  /** The ranges in the exporter's form (the exporter derives scale and zero point with the same QuantParams). */
  public ActivationRanges toActivationRanges() {
    Map<String, float[]> ranges = new LinkedHashMap<>();
    tensors.forEach((name, t) -> ranges.put(name, new float[] {t.range().min(), t.range().max()}));
    return ActivationRanges.of(ranges, method.name());
  }

  public String toJson() {
    ObjectNode root = StatsJson.header(FORMAT, FORMAT_VERSION);
    root.set("method", method.toJson());
    if (inputShape != null) {
      ArrayNode shape = root.putArray("inputShape");
      Arrays.stream(inputShape).forEach(shape::add);
    }
    if (modelFingerprint != null) {
      root.put("modelFingerprint", modelFingerprint);
    }
    ObjectNode all = root.putObject("tensors");
    for (TensorCalibration t : tensors.values()) {
      ObjectNode n = all.putObject(t.tensor());
      n.put("count", t.count());
      StatsJson.putFloat(n, "min", t.min());
      StatsJson.putFloat(n, "max", t.max());
      if (t.histogram() != null) {
        ObjectNode hist = n.putObject("histogram");
        hist.set("layout", t.histogram().layout().toJson());
        ArrayNode coarse = hist.putArray("coarseCounts");
        t.histogram().coarseCounts().forEach(coarse::add);
      }
      n.put("method", t.method());
      StatsJson.putFloat(n, "rangeMin", t.range().min());
      StatsJson.putFloat(n, "rangeMax", t.range().max());
      StatsJson.putFloat(n, "scale", t.scale());
      n.put("zeroPoint", t.zeroPoint());
    }
    try {
      return StatsJson.MAPPER.writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Parses the JSON form. The stored scale and zero point must be what {@link QuantParams#int8Activation} gives for
   * the stored range: a table edited by hand into an inconsistent state is rejected rather than trusted.
   */
  public static CalibrationTable fromJson(String json) {
    try {
      return parse(json);
    } catch (IllegalArgumentException e) {
      // names and values come from the file and may hold line breaks: the message stays one line
      throw new IllegalArgumentException(StatsJson.oneLine(e.getMessage()), e);
    }
  }

  private static CalibrationTable parse(String json) {
    JsonNode root;
    try {
      root = StatsJson.MAPPER.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      // getMessage() adds a multi-line source excerpt; the location is enough
      com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
      throw new IllegalArgumentException("calibration table is not valid JSON: " + e.getOriginalMessage()
          + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("calibration table is not valid JSON: " + e.getMessage(), e);
    }
    StatsJson.checkHeader(root, FORMAT, FORMAT_VERSION);
    RangeMethod method = RangeMethod.fromJson(StatsJson.require(root, "method"));
    SortedMap<String, TensorCalibration> tensors = new TreeMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = StatsJson.require(root, "tensors").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      try {
        tensors.put(e.getKey(), tensorFromJson(e.getKey(), e.getValue()));
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("calibration table, tensor '" + e.getKey() + "': " + ex.getMessage(), ex);
      }
    }
    int[] inputShape = null;
    JsonNode shape = root.get("inputShape");
    if (shape != null && !shape.isNull()) {
      if (!shape.isArray() || shape.isEmpty()) {
        throw new IllegalArgumentException("calibration table: inputShape must be a non-empty array, got " + shape);
      }
      inputShape = new int[shape.size()];
      for (int i = 0; i < inputShape.length; i++) {
        inputShape[i] = shape.get(i).asInt();
        if (!shape.get(i).canConvertToInt() || inputShape[i] < 1) {
          throw new IllegalArgumentException("calibration table: inputShape must hold positive integers, got "
              + shape);
        }
      }
    }
    String fingerprint = null;
    JsonNode fp = root.get("modelFingerprint");
    if (fp != null && !fp.isNull()) {
      if (!fp.isTextual() || !fp.asText().matches("[0-9a-f]{64}")) {
        throw new IllegalArgumentException("calibration table: modelFingerprint must be 64 lowercase hex digits "
            + "(SHA-256), got " + fp);
      }
      fingerprint = fp.asText();
    }
    return new CalibrationTable(method, tensors, inputShape, fingerprint);
  }

  private static TensorCalibration tensorFromJson(String name, JsonNode n) {
    HistogramSummary histogram = null;
    JsonNode hist = n.get("histogram");
    if (hist != null && !hist.isNull()) {
      List<Long> coarse = new ArrayList<>();
      for (JsonNode c : StatsJson.require(hist, "coarseCounts")) {
        coarse.add(c.asLong());
      }
      histogram = new HistogramSummary(BinLayout.fromJson(StatsJson.require(hist, "layout")), coarse);
    }
    ClipRange range = new ClipRange(StatsJson.requireFloat(n, "rangeMin"), StatsJson.requireFloat(n, "rangeMax"));
    float scale = StatsJson.requireFloat(n, "scale");
    int zeroPoint = StatsJson.requireInt(n, "zeroPoint");
    QuantParams expected = range.int8Params();
    if (Float.floatToIntBits(expected.scale()) != Float.floatToIntBits(scale) || expected.zeroPoint() != zeroPoint) {
      throw new IllegalArgumentException("scale " + scale + " / zeroPoint " + zeroPoint + " do not match range ["
          + range.min() + ", " + range.max() + "], which gives " + expected.scale() + " / " + expected.zeroPoint());
    }
    return new TensorCalibration(name, StatsJson.requireLong(n, "count"), StatsJson.requireFloat(n, "min"),
        StatsJson.requireFloat(n, "max"), histogram, StatsJson.requireText(n, "method"), range, scale, zeroPoint);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CalibrationTable t && method.equals(t.method) && tensors.equals(t.tensors)
        && Arrays.equals(inputShape, t.inputShape) && java.util.Objects.equals(modelFingerprint, t.modelFingerprint);
  }

  @Override
  public int hashCode() {
    return method.hashCode() * 31 + tensors.hashCode();
  }

  @Override
  public String toString() {
    return "CalibrationTable{method=" + method + ", tensors=" + tensors.keySet() + "}";
  }
}
