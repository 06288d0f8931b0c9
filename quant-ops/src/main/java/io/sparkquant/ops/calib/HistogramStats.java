package io.sparkquant.ops.calib;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A histogram of a tensor's values over a {@link BinLayout} fixed before the pass (pass 2 of calibration).
 *
 * <p>Counts are exact longs and the edges never move, so {@link #merge} is an element-wise add and the result is
 * bit-identical for any partitioning (STYLE.md section 4; re-binning merges such as PyTorch's HistogramObserver
 * are order dependent and not used). Values outside the layout are counted in {@link #outOfRangeCount()}
 * instead of being clamped into an edge bin: pass 2 sees the rows of pass 1, so such a value means the two passes
 * disagree and the caller must fail. Non-finite values go to {@link #nonFiniteCount()}.
 */
public final class HistogramStats implements MergeableStats<HistogramStats> {

  private static final long serialVersionUID = 1L;
  static final String JSON_FORMAT = "sparkquant.histogram-stats";
  static final int JSON_FORMAT_VERSION = 1;

  private final BinLayout layout;
  private final long[] counts;
  private long count;
  private long outOfRangeCount;
  private long nonFiniteCount;

  private HistogramStats(BinLayout layout) {
    this.layout = layout;
    this.counts = new long[layout.binCount()];
  }

  /** The accumulation of zero inputs over {@code layout}. */
  public static HistogramStats empty(BinLayout layout) {
    return new HistogramStats(layout);
  }

  public HistogramStats add(float x) {
    if (!Float.isFinite(x)) {
      nonFiniteCount++;
    } else if (!layout.contains(x)) {
      outOfRangeCount++;
    } else {
      counts[layout.binOf(x)]++;
      count++;
    }
    return this;
  }

  /** Observes the values from the buffer's position to its limit (the position does not move). */
  public HistogramStats addAll(FloatBuffer values) {
    for (int i = values.position(); i < values.limit(); i++) {
      add(values.get(i));
    }
    return this;
  }

  public HistogramStats addAll(float[] values) {
    return addAll(FloatBuffer.wrap(values));
  }

  @Override
  public HistogramStats merge(HistogramStats other) {
    if (!layout.equals(other.layout)) {
      throw new IllegalArgumentException("cannot merge histograms with different bin layouts: " + layout + " vs "
          + other.layout + " (edges are fixed before the pass; both sides must use the same pass-1 layout)");
    }
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
    count += other.count;
    outOfRangeCount += other.outOfRangeCount;
    nonFiniteCount += other.nonFiniteCount;
    return this;
  }

  @Override
  public HistogramStats copy() {
    return new HistogramStats(layout).merge(this);
  }

  public BinLayout layout() {
    return layout;
  }

  /** Finite values inside the layout, i.e. the sum of {@link #counts()}. */
  @Override
  public long count() {
    return count;
  }

  /** The count of bin {@code i}. */
  public long binCount(int i) {
    return counts[i];
  }

  /** A copy of the bin counts. */
  public long[] counts() {
    return counts.clone();
  }

  public long outOfRangeCount() {
    return outOfRangeCount;
  }

  public long nonFiniteCount() {
    return nonFiniteCount;
  }

  public ObjectNode toJson() {
    ObjectNode node = StatsJson.header(JSON_FORMAT, JSON_FORMAT_VERSION);
    node.set("layout", layout.toJson());
    node.put("count", count);
    node.put("outOfRangeCount", outOfRangeCount);
    node.put("nonFiniteCount", nonFiniteCount);
    ArrayNode array = node.putArray("counts");
    for (long c : counts) {
      array.add(c);
    }
    return node;
  }

  public static HistogramStats fromJson(JsonNode node) {
    StatsJson.checkHeader(node, JSON_FORMAT, JSON_FORMAT_VERSION);
    HistogramStats h = new HistogramStats(BinLayout.fromJson(StatsJson.require(node, "layout")));
    JsonNode array = StatsJson.require(node, "counts");
    if (!array.isArray() || array.size() != h.counts.length) {
      throw new IllegalArgumentException("histogram 'counts' must be an array of " + h.counts.length
          + " integers (one per bin of the layout), got " + (array.isArray() ? array.size() + " entries" : array));
    }
    long sum = 0;
    for (int i = 0; i < h.counts.length; i++) {
      JsonNode c = array.get(i);
      if (!c.isIntegralNumber() || c.asLong() < 0) {
        throw new IllegalArgumentException("histogram counts[" + i + "] must be an integer >= 0, got " + c);
      }
      h.counts[i] = c.asLong();
      sum += h.counts[i];
    }
    h.count = StatsJson.requireLong(node, "count");
    if (h.count != sum) {
      throw new IllegalArgumentException("histogram 'count' " + h.count + " differs from the sum of its bins " + sum);
    }
    h.outOfRangeCount = StatsJson.requireLong(node, "outOfRangeCount");
    h.nonFiniteCount = StatsJson.requireLong(node, "nonFiniteCount");
    return h;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HistogramStats h
        && layout.equals(h.layout)
        && count == h.count
        && outOfRangeCount == h.outOfRangeCount
        && nonFiniteCount == h.nonFiniteCount
        && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return layout.hashCode() * 31 + Arrays.hashCode(counts);
  }

  @Override
  public String toString() {
    return "HistogramStats{" + layout + ", count=" + count + ", outOfRange=" + outOfRangeCount + ", nonFinite="
        + nonFiniteCount + "}";
  }
}
