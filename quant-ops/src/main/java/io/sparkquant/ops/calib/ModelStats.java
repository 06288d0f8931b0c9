package io.sparkquant.ops.calib;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Statistics for every observed tensor of one model: tensor name -> {@link MergeableStats}, with the same laws.
 *
 * <p>The empty container holds no tensors; {@link #add} folds one observation (typically a batch's statistics)
 * into the tensor's entry, creating it on first use, and {@link #merge} is the key-wise union that merges shared
 * tensors. Tensors are kept sorted by name so that iteration and JSON output do not depend on arrival order.
 *
 * @param <S> the per-tensor statistics
 */
public final class ModelStats<S extends MergeableStats<S>> implements MergeableStats<ModelStats<S>> {

  private static final long serialVersionUID = 1L;
  static final String JSON_FORMAT = "sparkquant.model-stats";
  static final int JSON_FORMAT_VERSION = 1;

  private final TreeMap<String, S> byTensor = new TreeMap<>();

  private ModelStats() {}

  /** The accumulation of zero inputs. */
  public static <S extends MergeableStats<S>> ModelStats<S> empty() {
    return new ModelStats<>();
  }

  /** Folds {@code observation} into {@code tensor}'s entry; {@code observation} is not retained or changed. */
  public ModelStats<S> add(String tensor, S observation) {
    S current = byTensor.get(tensor);
    if (current == null) {
      byTensor.put(tensor, observation.copy());
    } else {
      current.merge(observation);
    }
    return this;
  }

  @Override
  public ModelStats<S> merge(ModelStats<S> other) {
    for (Map.Entry<String, S> e : other.byTensor.entrySet()) {
      add(e.getKey(), e.getValue());
    }
    return this;
  }

  @Override
  public ModelStats<S> copy() {
    return new ModelStats<S>().merge(this);
  }

  /** The sum of the tensors' counts. */
  @Override
  public long count() {
    long total = 0;
    for (S s : byTensor.values()) {
      total += s.count();
    }
    return total;
  }

  /** Tensor names -> statistics, sorted by name; a read-only view, do not mutate the values. */
  public SortedMap<String, S> tensors() {
    return Collections.unmodifiableSortedMap(byTensor);
  }

  /** The statistics of {@code tensor}, or null if it was never observed. */
  public S get(String tensor) {
    return byTensor.get(tensor);
  }

  public boolean isEmpty() {
    return byTensor.isEmpty();
  }

  public ObjectNode toJson() {
    ObjectNode node = StatsJson.header(JSON_FORMAT, JSON_FORMAT_VERSION);
    ObjectNode tensors = node.putObject("tensors");
    byTensor.forEach((name, s) -> tensors.set(name, toJson(s)));
    return node;
  }

  private static JsonNode toJson(MergeableStats<?> s) {
    if (s instanceof MinMaxStats m) {
      return m.toJson();
    }
    if (s instanceof HistogramStats h) {
      return h.toJson();
    }
    if (s instanceof ModelStats<?> m) {
      return m.toJson();
    }
    throw new IllegalArgumentException("no JSON form for " + s.getClass().getName());
  }

  /** Reads the JSON form; {@code reader} reads one tensor's statistics (e.g. {@code MinMaxStats::fromJson}). */
  public static <S extends MergeableStats<S>> ModelStats<S> fromJson(JsonNode node, Function<JsonNode, S> reader) {
    StatsJson.checkHeader(node, JSON_FORMAT, JSON_FORMAT_VERSION);
    ModelStats<S> stats = new ModelStats<>();
    Iterator<Map.Entry<String, JsonNode>> it = StatsJson.require(node, "tensors").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      try {
        stats.byTensor.put(e.getKey(), reader.apply(e.getValue()));
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("tensor '" + e.getKey() + "': " + ex.getMessage(), ex);
      }
    }
    return stats;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelStats<?> m && byTensor.equals(m.byTensor);
  }

  @Override
  public int hashCode() {
    return byTensor.hashCode();
  }

  @Override
  public String toString() {
    return "ModelStats" + byTensor;
  }
}
