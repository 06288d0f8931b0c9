package io.sparkquant.ops.calib;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The chosen float range {@code [min, max]} of each graph tensor (by {@link io.sparkquant.ops.graph.Graph} tensor
 * name), as calibration produces it, and the method that chose them ("minmax", "percentile", "entropy", ...).
 * The exporter derives int8/int16 parameters from them with {@link io.sparkquant.ops.numerics.QuantParams}.
 */
public final class ActivationRanges {

  private final Map<String, float[]> ranges;
  private final String method;

  private ActivationRanges(Map<String, float[]> ranges, String method) {
    this.ranges = ranges;
    this.method = method;
  }

  /** Copies the map; every range must be finite with min <= max. */
  public static ActivationRanges of(Map<String, float[]> ranges, String method) {
    Map<String, float[]> copy = new LinkedHashMap<>();
    for (Map.Entry<String, float[]> e : ranges.entrySet()) {
      float[] r = e.getValue();
      if (r == null || r.length != 2 || !Float.isFinite(r[0]) || !Float.isFinite(r[1]) || r[0] > r[1]) {
        throw new IllegalArgumentException("range of tensor '" + e.getKey() + "' must be {min, max}, finite, min <= "
            + "max; got " + (r == null ? "null" : java.util.Arrays.toString(r)));
      }
      copy.put(e.getKey(), r.clone());
    }
    return new ActivationRanges(Collections.unmodifiableMap(copy), method == null ? "unspecified" : method);
  }

  public Optional<float[]> get(String tensorName) {
    float[] r = ranges.get(tensorName);
    return r == null ? Optional.empty() : Optional.of(r.clone());
  }

  public String method() {
    return method;
  }

  public Map<String, float[]> asMap() {
    Map<String, float[]> copy = new LinkedHashMap<>();
    ranges.forEach((k, v) -> copy.put(k, v.clone()));
    return copy;
  }

  @Override
  public String toString() {
    return "ActivationRanges(" + ranges.size() + " tensors, " + method + ")";
  }
}
