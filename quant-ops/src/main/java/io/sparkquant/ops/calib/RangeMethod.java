package io.sparkquant.ops.calib;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.util.Locale;

/**
 * How a tensor's activation range is chosen from its calibration statistics.
 *
 * <ul>
 *   <li>{@link MinMax}: the observed {@code [min, max]}; needs only pass 1.
 *   <li>{@link Percentile}: clip each tail at (100 - p)% of the values, on the histogram.
 *   <li>{@link Entropy}: minimise the KL divergence between the histogram and its quantized version, as TensorRT's
 *       entropy calibrator ({@link EntropyRange} documents the asymmetric adaptation).
 *   <li>{@link Mse}: minimise the expected quantization mean squared error ({@link MseRange}).
 * </ul>
 */
public sealed interface RangeMethod extends Serializable
    permits RangeMethod.MinMax, RangeMethod.Percentile, RangeMethod.Entropy, RangeMethod.Mse {

  double DEFAULT_PERCENTILE = 99.99;

  /** The CLI and JSON name: minmax, percentile, entropy or mse. */
  String name();

  /** True if the method needs the histogram pass. */
  boolean needsHistogram();

  /**
   * Chooses the range of one tensor. {@code minMax} must have seen at least one finite value and no
   * non-finite one; {@code histogram} is required iff {@link #needsHistogram()} and must be laid out from
   * {@code minMax} (checked by {@link CalibrationTable#compute}).
   */
  ClipRange select(MinMaxStats minMax, HistogramStats histogram);

  static RangeMethod minMax() {
    return new MinMax();
  }

  static RangeMethod percentile(double percentile) {
    return new Percentile(percentile);
  }

  static RangeMethod entropy() {
    return new Entropy();
  }

  static RangeMethod mse() {
    return new Mse();
  }

  /**
   * Parses a CLI name. {@code percentile} is used only by the percentile method (null means
   * {@link #DEFAULT_PERCENTILE}); giving it with another method is an error rather than silently ignored.
   */
  static RangeMethod parse(String name, Double percentile) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    if (percentile != null && !n.equals("percentile")) {
      throw new IllegalArgumentException("a percentile (" + percentile + ") only applies to method 'percentile', "
          + "not '" + name + "'");
    }
    return switch (n) {
      case "minmax" -> minMax();
      case "percentile" -> percentile(percentile == null ? DEFAULT_PERCENTILE : percentile);
      case "entropy" -> entropy();
      case "mse" -> mse();
      default -> throw new IllegalArgumentException("unknown range method '" + name
          + "'; valid: minmax, percentile, entropy, mse");
    };
  }

  default ObjectNode toJson() {
    ObjectNode node = StatsJson.MAPPER.createObjectNode();
    node.put("name", name());
    if (this instanceof Percentile p) {
      node.put("percentile", p.percentile());
    }
    return node;
  }

  static RangeMethod fromJson(JsonNode node) {
    String name = StatsJson.requireText(node, "name");
    Double p = node.has("percentile") ? StatsJson.requireDouble(node, "percentile") : null;
    return parse(name, p);
  }

  /** The observed range. */
  record MinMax() implements RangeMethod {
    @Override
    public String name() {
      return "minmax";
    }

    @Override
    public boolean needsHistogram() {
      return false;
    }

    @Override
    public ClipRange select(MinMaxStats minMax, HistogramStats histogram) {
      return new ClipRange(minMax.min(), minMax.max());
    }
  }

  /** Each tail clipped at (100 - percentile)% of the values; {@code percentile} in (50, 100]. */
  record Percentile(double percentile) implements RangeMethod {
    public Percentile {
      if (!(percentile > 50 && percentile <= 100)) {
        throw new IllegalArgumentException("percentile must be in (50, 100], got " + percentile);
      }
    }

    @Override
    public String name() {
      return "percentile";
    }

    @Override
    public boolean needsHistogram() {
      return true;
    }

    @Override
    public ClipRange select(MinMaxStats minMax, HistogramStats histogram) {
      return PercentileRange.select(minMax, histogram, percentile);
    }
  }

  /** Minimum KL divergence (TensorRT's entropy calibrator). */
  record Entropy() implements RangeMethod {
    @Override
    public String name() {
      return "entropy";
    }

    @Override
    public boolean needsHistogram() {
      return true;
    }

    @Override
    public ClipRange select(MinMaxStats minMax, HistogramStats histogram) {
      return EntropyRange.select(minMax, histogram);
    }
  }

  /** Minimum expected quantization MSE. */
  record Mse() implements RangeMethod {
    @Override
    public String name() {
      return "mse";
    }

    @Override
    public boolean needsHistogram() {
      return true;
    }

    @Override
    public ClipRange select(MinMaxStats minMax, HistogramStats histogram) {
      return MseRange.select(minMax, histogram);
    }
  }
}
