package io.sparkquant.jobs.output;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import org.apache.spark.sql.SparkSession;

/**
 * The provenance record every job writes next to its outputs as {@code manifest.json}: command, project
 * version, resolved options (including the seed), inputs with row counts, durations, Spark context.
 */
public final class Manifest {

  public static final String FILE_NAME = "manifest.json";

  private final ObjectNode root = OutputDir.json().createObjectNode();
  private final ArrayNode inputs = OutputDir.json().createArrayNode();
  private final ObjectNode durationsMillis = OutputDir.json().createObjectNode();

  /** @param options the resolved options (a record or map; serialized with Jackson) */
  public Manifest(String command, Object options) {
    root.put("command", command);
    root.put("projectVersion", ProjectVersion.get());
    root.put("createdAt", Instant.now().toString());
    root.set("options", OutputDir.json().valueToTree(options));
    root.set("inputs", inputs);
    root.set("durationsMillis", durationsMillis);
  }

  public Manifest spark(SparkSession spark) {
    ObjectNode node = root.putObject("spark");
    node.put("version", spark.version());
    node.put("master", spark.sparkContext().master());
    node.put("applicationId", spark.sparkContext().applicationId());
    node.put("defaultParallelism", spark.sparkContext().defaultParallelism());
    return this;
  }

  public Manifest input(String role, String path) {
    inputs.addObject().put("role", role).put("path", path);
    return this;
  }

  public Manifest input(String role, String path, long rows) {
    inputs.addObject().put("role", role).put("path", path).put("rows", rows);
    return this;
  }

  public Manifest duration(String stage, long millis) {
    durationsMillis.put(stage, millis);
    return this;
  }

  /** Adds any other field (a value Jackson can serialize). */
  public Manifest put(String key, Object value) {
    root.set(key, OutputDir.json().valueToTree(value));
    return this;
  }

  public void writeTo(OutputDir out) {
    out.writeJson(FILE_NAME, root);
  }

  /** The manifest as indented JSON, for a job whose output is one file with the manifest beside it (calibrate). */
  public byte[] toJsonBytes() {
    try {
      return OutputDir.json().writeValueAsBytes(root);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new java.io.UncheckedIOException("Cannot serialize the manifest", e);
    }
  }
}
