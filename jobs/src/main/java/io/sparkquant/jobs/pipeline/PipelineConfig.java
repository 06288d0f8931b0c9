package io.sparkquant.jobs.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkquant.jobs.eval.TfliteEngine;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.jobs.qat.QatJob;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.export.ExportMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The pipeline's configuration (one JSON document, README "Operations"), parsed strictly: an unknown key, a value of
 * the wrong type or out of range is an {@link InvalidConfigException} naming the key, the value and what is valid.
 * Parsing needs no Spark, so a bad config is refused before Spark starts.
 *
 * <pre>{@code
 * {
 *   "root": "runs/nightly",
 *   "data": {"idx": "auto"}  or  {"train": "parquet/train", "test": "parquet/test"},
 *   "model": "model.zip"     or  "train": {"preset": "cnn", "epochs": 2},
 *   "calibrate": {"method": "mse", "rows": 1000},
 *   "quantize": {"modes": ["dynamic", "int8"]},
 *   "qat": {"epochs": 1},
 *   "evaluate": {"rows": 0, "runtime": "java"},
 *   "gate": {"minAccuracy": 0.85, "maxDrop": 0.01, "minAgreement": 0.98}
 * }
 * }</pre>
 *
 * @param root directory every output goes under (any Hadoop URI)
 * @param train the training step, or null when {@code model} is given
 * @param model a trained DL4J model to start from, or null when {@code train} is given
 * @param qat the quantization-aware fine-tuning step, or null to skip it
 * @param gate the acceptance conditions, or null for none
 */
public record PipelineConfig(String root, Data data, Train train, String model, Calibrate calibrate, Quantize quantize,
    Qat qat, Evaluate evaluate, Gate.Conditions gate) {

  /** {@code idx} converts Fashion-MNIST/MNIST IDX files ("auto": as the demo finds them); else Parquet datasets. */
  public record Data(String idx, int partitions, String train, String test) {}

  /** @param rows train on the first N rows only; 0 = all */
  public record Train(String preset, int epochs, int batchSize, int partitions, long seed, double learningRate,
      long rows) {}

  /** @param percentile only with method percentile; null = the method's default */
  public record Calibrate(String method, Double percentile, long rows, long seed) {}

  public record Quantize(List<String> modes, boolean perTensorWeights) {}

  /** @param rows fine-tune on the first N training rows only; 0 = all */
  public record Qat(int epochs, double learningRate, int batchSize, int partitions, long seed, long rows) {}

  /** @param rows score the first N test rows only; 0 = all */
  public record Evaluate(long rows, String runtime, int batchSize) {}

  /** The config is invalid: the message names the key, the value and what is valid. */
  public static final class InvalidConfigException extends IllegalArgumentException {
    InvalidConfigException(String key, JsonNode value, String valid) {
      super("config key '" + key + "': " + (value == null || value.isMissingNode() ? "missing" : "value " + value)
          + " is not valid; " + valid);
    }

    InvalidConfigException(String message) {
      super(message);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> MODES = Arrays.stream(ExportMode.values()).map(ExportMode::cliName).toList();

  /** The same config with another output root (the command's {@code --root}, e.g. a dated directory). */
  public PipelineConfig withRoot(String newRoot) {
    return new PipelineConfig(newRoot, data, train, model, calibrate, quantize, qat, evaluate, gate);
  }

  /** Parses and checks a config document. */
  public static PipelineConfig parse(String json) {
    JsonNode tree;
    try {
      tree = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new InvalidConfigException("the config is not valid JSON: " + e.getOriginalMessage() + " at line "
          + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr());
    }
    if (tree == null || !tree.isObject()) {
      throw new InvalidConfigException("the config must be a JSON object, got " + tree);
    }
    Section top = new Section("", (ObjectNode) tree);
    String root = top.text("root", null, true);

    Section d = top.section("data", true);
    String idx = d.text("idx", null, false);
    String trainData = d.text("train", null, false);
    String testData = d.text("test", null, false);
    if ((idx == null) == (trainData == null && testData == null) || (idx == null && (trainData == null
        || testData == null))) {
      throw new InvalidConfigException("config key 'data': give either 'idx' (a directory of IDX files, or \"auto\")"
          + " or both 'train' and 'test' (Parquet tensor datasets), got " + d.node);
    }
    Data data = new Data(idx, d.integer("partitions", 2, 1), trainData, testData);
    d.done();

    String model = top.text("model", null, false);
    Train train = null;
    if (top.has("train")) {
      Section t = top.section("train", true);
      String preset = t.choice("preset", Preset.CNN.cliName(),
          Arrays.stream(Preset.values()).map(Preset::cliName).toList());
      double lr = t.number("learningRate", TrainConfig.DEFAULT_LEARNING_RATE, 0, 1, "a number in (0, 1)");
      train = new Train(preset, t.integer("epochs", 2, 1), t.integer("batchSize", TrainConfig.DEFAULT_BATCH_SIZE, 1),
          t.integer("partitions", 0, 0), t.longValue("seed", TrainConfig.DEFAULT_SEED, Long.MIN_VALUE),
          lr, t.longValue("rows", 0, 0));
      t.done();
    }
    if ((train == null) == (model == null)) {
      throw new InvalidConfigException("config keys 'model' and 'train': give exactly one (a trained model.zip, or a"
          + " train section), got " + (model == null ? "neither" : "both"));
    }

    Section c = top.section("calibrate", false);
    String method = c.choice("method", "mse", List.of("minmax", "percentile", "entropy", "mse"));
    Double percentile = c.has("percentile") ? c.number("percentile", 0, 0, 100, "a number in (0, 100)") : null;
    if (percentile != null && !method.equals("percentile")) {
      throw new InvalidConfigException("calibrate.percentile", c.node.get("percentile"),
          "it applies only to \"method\": \"percentile\", the method is \"" + method + "\"");
    }
    RangeMethod.parse(method, percentile);
    Calibrate calibrate = new Calibrate(method, percentile, c.longValue("rows", 1000, 1), c.longValue("seed", 0,
        Long.MIN_VALUE));
    c.done();

    Section q = top.section("quantize", false);
    List<String> modes = q.choices("modes", List.of(ExportMode.DYNAMIC_RANGE.cliName(), ExportMode.INT8.cliName()),
        MODES);
    boolean perTensor = q.bool("perTensorWeights", false);
    if (perTensor && !modes.equals(List.of(ExportMode.INT8.cliName()))) {
      throw new InvalidConfigException("quantize.perTensorWeights", q.node.get("perTensorWeights"),
          "true applies only when \"modes\" is [\"int8\"], the modes are " + modes);
    }
    Quantize quantize = new Quantize(modes, perTensor);
    q.done();

    Qat qat = null;
    if (top.has("qat")) {
      Section s = top.section("qat", true);
      qat = new Qat(s.integer("epochs", 1, 1),
          s.number("learningRate", QatJob.DEFAULT_LEARNING_RATE, 0, 1, "a number in (0, 1)"),
          s.integer("batchSize", TrainConfig.DEFAULT_BATCH_SIZE, 1), s.integer("partitions", 0, 0),
          s.longValue("seed", TrainConfig.DEFAULT_SEED, Long.MIN_VALUE), s.longValue("rows", 0, 0));
      s.done();
    }

    Section e = top.section("evaluate", false);
    Evaluate evaluate = new Evaluate(e.longValue("rows", 0, 0),
        e.choice("runtime", TfliteEngine.JAVA.cliName(),
            Arrays.stream(TfliteEngine.values()).map(TfliteEngine::cliName).toList()),
        e.integer("batchSize", 256, 1));
    e.done();

    Gate.Conditions gate = null;
    if (top.has("gate")) {
      Section g = top.section("gate", true);
      Double minAccuracy = g.has("minAccuracy") ? g.number("minAccuracy", 0, 0, 1, "a fraction in [0, 1]") : null;
      Double maxDrop = g.has("maxDrop") ? g.number("maxDrop", 0, -1, 1, "a fraction in [-1, 1] (0.01 = 1 point)")
          : null;
      Double minAgreement = g.has("minAgreement") ? g.number("minAgreement", 0, 0, 1, "a fraction in [0, 1]") : null;
      List<String> labels = new ArrayList<>();
      modes.forEach(labels::add);
      if (qat != null) {
        labels.add(PipelineJob.QAT_LABEL);
      }
      List<String> gated = g.choices("models", labels, labels);
      gate = new Gate.Conditions(gated, minAccuracy, maxDrop, minAgreement);
      if (minAccuracy == null && maxDrop == null && minAgreement == null) {
        throw new InvalidConfigException("gate", g.node,
            "give at least one of minAccuracy, maxDrop, minAgreement (or no gate section)");
      }
      g.done();
    }
    top.done();
    return new PipelineConfig(root, data, train, model, calibrate, quantize, qat, evaluate, gate);
  }

  /** One JSON object of the config: typed getters with defaults, and {@link #done()} rejects keys nobody read. */
  private static final class Section {
    final String prefix;
    final ObjectNode node;
    final Set<String> read = new LinkedHashSet<>();

    Section(String prefix, ObjectNode node) {
      this.prefix = prefix;
      this.node = node;
    }

    String key(String name) {
      return prefix.isEmpty() ? name : prefix + "." + name;
    }

    boolean has(String name) {
      read.add(name);
      return node.has(name) && !node.get(name).isNull();
    }

    JsonNode get(String name) {
      read.add(name);
      return node.get(name);
    }

    Section section(String name, boolean required) {
      JsonNode v = get(name);
      if (v == null || v.isNull()) {
        if (required) {
          throw new InvalidConfigException(key(name), v, "this section is required (a JSON object)");
        }
        return new Section(key(name), JSON.createObjectNode());
      }
      if (!v.isObject()) {
        throw new InvalidConfigException(key(name), v, "expected a JSON object");
      }
      return new Section(key(name), (ObjectNode) v);
    }

    String text(String name, String defaultValue, boolean required) {
      JsonNode v = get(name);
      if (v == null || v.isNull()) {
        if (required) {
          throw new InvalidConfigException(key(name), v, "expected a non-empty string");
        }
        return defaultValue;
      }
      if (!v.isTextual() || v.asText().isBlank()) {
        throw new InvalidConfigException(key(name), v, "expected a non-empty string");
      }
      return v.asText();
    }

    String choice(String name, String defaultValue, List<String> valid) {
      String s = text(name, defaultValue, false);
      if (!valid.contains(s)) {
        throw new InvalidConfigException(key(name), node.get(name), "valid: " + quoted(valid));
      }
      return s;
    }

    List<String> choices(String name, List<String> defaultValue, List<String> valid) {
      JsonNode v = get(name);
      if (v == null || v.isNull()) {
        return defaultValue;
      }
      if (!v.isArray() || v.isEmpty()) {
        throw new InvalidConfigException(key(name), v, "expected a non-empty array of " + quoted(valid));
      }
      List<String> out = new ArrayList<>();
      for (int i = 0; i < v.size(); i++) {
        JsonNode item = v.get(i);
        if (!item.isTextual() || !valid.contains(item.asText())) {
          throw new InvalidConfigException(key(name) + "[" + i + "]", item, "valid: " + quoted(valid));
        }
        if (out.contains(item.asText())) {
          throw new InvalidConfigException(key(name) + "[" + i + "]", item, "each value at most once");
        }
        out.add(item.asText());
      }
      return List.copyOf(out);
    }

    int integer(String name, int defaultValue, int min) {
      long v = longValue(name, defaultValue, min);
      if (v > Integer.MAX_VALUE) {
        throw new InvalidConfigException(key(name), node.get(name), "expected an integer <= " + Integer.MAX_VALUE);
      }
      return (int) v;
    }

    long longValue(String name, long defaultValue, long min) {
      JsonNode v = get(name);
      if (v == null || v.isNull()) {
        return defaultValue;
      }
      if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min) {
        throw new InvalidConfigException(key(name), v, "expected an integer" + (min == Long.MIN_VALUE ? ""
            : " >= " + min));
      }
      return v.asLong();
    }

    /** A number in (lo, hi) when {@code valid} says so (learning rates, percentiles), else in [lo, hi]. */
    double number(String name, double defaultValue, double lo, double hi, String valid) {
      JsonNode v = get(name);
      if (v == null || v.isNull()) {
        return defaultValue;
      }
      boolean open = valid.contains("(" + fmt(lo));
      if (!v.isNumber() || (open ? !(v.asDouble() > lo && v.asDouble() < hi)
          : !(v.asDouble() >= lo && v.asDouble() <= hi))) {
        throw new InvalidConfigException(key(name), v, "expected " + valid);
      }
      return v.asDouble();
    }

    boolean bool(String name, boolean defaultValue) {
      JsonNode v = get(name);
      if (v == null || v.isNull()) {
        return defaultValue;
      }
      if (!v.isBoolean()) {
        throw new InvalidConfigException(key(name), v, "expected true or false");
      }
      return v.asBoolean();
    }

    /** Every key must have been read: a misspelt key is an error, never silently ignored. */
    void done() {
      for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
        String name = it.next();
        if (!read.contains(name)) {
          throw new InvalidConfigException(key(name), node.get(name), "unknown key; valid keys"
              + (prefix.isEmpty() ? "" : " in '" + prefix + "'") + ": " + read);
        }
      }
    }

    private static String fmt(double d) {
      return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    private static String quoted(List<String> valid) {
      return valid.stream().map(s -> "\"" + s + "\"").toList().toString();
    }
  }
}
