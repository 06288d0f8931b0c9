package io.sparkquant.jobs.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkquant.data.OutputCommit;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.output.OutputFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What makes the pipeline rerunnable: after a step succeeds, a record {@code <root>/pipeline/<step>.json} holds the
 * step's resolved options and the SHA-256 of every input and output. A step is up to date when its record exists,
 * its options and input hashes equal the current ones, and every output still has its recorded hash; then it is
 * skipped. The record is written (atomically) only after the step's own outputs were committed, so a run killed
 * midway leaves no record for the interrupted step and the rerun does it again.
 *
 * <p>A directory hashes as the sorted list of its files' relative paths and hashes; hidden names (the jobs'
 * temporary {@code .name.tmp-*} siblings, Hadoop {@code .crc} files) are left out.
 */
final class StepRecords {

  private static final Logger LOG = LoggerFactory.getLogger(StepRecords.class);
  static final String DIR = "pipeline";

  private final Configuration conf;
  private final String root;
  private final Map<String, String> hashes = new HashMap<>();

  StepRecords(Configuration conf, String root) {
    this.conf = conf;
    this.root = root;
  }

  String recordPath(String step) {
    return root + "/" + DIR + "/" + step + ".json";
  }

  /** True when the step's record matches {@code options} and the inputs' and outputs' current hashes. */
  boolean upToDate(String step, JsonNode options, List<String> inputs, List<String> outputs) {
    String path = recordPath(step);
    if (!exists(path)) {
      return false;
    }
    JsonNode record;
    try {
      record = OutputDir.json().readTree(HadoopFiles.readString(conf, path));
    } catch (IOException | RuntimeException e) {
      LOG.warn("Step record {} is unreadable; running the step again", path, e);
      return false;
    }
    if (!options.equals(record.get("options"))) {
      LOG.info("Step {}: options changed since {}", step, path);
      return false;
    }
    if (!hashesOf(inputs).equals(record.get("inputs"))) {
      LOG.info("Step {}: inputs changed since {}", step, path);
      return false;
    }
    for (String out : outputs) {
      if (!exists(out) || !hash(out).equals(record.path("outputs").path(out).asText(null))) {
        LOG.info("Step {}: output {} is missing or changed since {}", step, out, path);
        return false;
      }
    }
    return true;
  }

  /** Records a completed step (after its outputs were committed). */
  void write(String step, JsonNode options, List<String> inputs, List<String> outputs, long millis) {
    outputs.forEach(hashes::remove); // the step just rewrote them
    ObjectNode record = OutputDir.json().createObjectNode();
    record.put("step", step);
    record.set("options", options);
    record.set("inputs", hashesOf(inputs));
    record.set("outputs", hashesOf(outputs));
    record.put("millis", millis);
    record.put("completedAt", Instant.now().toString());
    try (OutputFiles out = OutputFiles.create(conf, true)) {
      out.writeJson(recordPath(step), record);
      out.commit();
    }
  }

  /** Forgets a step's record before it runs again, so a run killed while replacing outputs cannot look complete. */
  void remove(String step) {
    delete(new Path(recordPath(step)));
  }

  /**
   * Deletes what a killed run left beside {@code outputs}: the jobs' hidden temporary siblings
   * ({@code .<name>.tmp-<uuid>}, see {@link OutputCommit}). Nothing else is touched.
   */
  void clearTemporaries(List<String> outputs) {
    for (String out : outputs) {
      try {
        Path target = new Path(out);
        FileSystem fs = target.getFileSystem(conf);
        if (target.getParent() == null || !fs.exists(target.getParent())) {
          continue;
        }
        for (FileStatus s : fs.listStatus(target.getParent(),
            p -> p.getName().startsWith("." + target.getName() + ".tmp-"))) {
          LOG.info("Deleting {} left by an interrupted run", s.getPath());
          fs.delete(s.getPath(), true);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot clear temporary outputs next to " + out, e);
      }
    }
  }

  boolean exists(String path) {
    try {
      Path p = new Path(path);
      return p.getFileSystem(conf).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot check " + path, e);
    }
  }

  private ObjectNode hashesOf(List<String> paths) {
    ObjectNode node = OutputDir.json().createObjectNode();
    for (String p : paths) {
      node.put(p, exists(p) ? hash(p) : "missing");
    }
    return node;
  }

  /** SHA-256 of a file, or of a directory's sorted (relative path, file hash) list; memoized per run. */
  String hash(String path) {
    return hashes.computeIfAbsent(path, p -> {
      try {
        Path target = new Path(p);
        FileSystem fs = target.getFileSystem(conf);
        if (fs.getFileStatus(target).isFile()) {
          return fileHash(fs, target);
        }
        Map<String, String> files = new TreeMap<>();
        collect(fs, target, "", files);
        MessageDigest md = sha256();
        files.forEach((name, h) -> md.update((name + "\0" + h + "\n").getBytes(StandardCharsets.UTF_8)));
        return HexFormat.of().formatHex(md.digest());
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot hash " + p, e);
      }
    });
  }

  private static void collect(FileSystem fs, Path dir, String prefix, Map<String, String> files) throws IOException {
    List<FileStatus> children = new ArrayList<>(List.of(fs.listStatus(dir)));
    for (FileStatus s : children) {
      String name = s.getPath().getName();
      if (name.startsWith(".")) {
        continue;
      }
      if (s.isDirectory()) {
        collect(fs, s.getPath(), prefix + name + "/", files);
      } else {
        files.put(prefix + name, fileHash(fs, s.getPath()));
      }
    }
  }

  private static String fileHash(FileSystem fs, Path file) throws IOException {
    MessageDigest md = sha256();
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = fs.open(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        md.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private void delete(Path p) {
    try {
      FileSystem fs = p.getFileSystem(conf);
      if (fs.exists(p)) {
        fs.delete(p, false);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + p, e);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }
}
