package io.sparkquant.jobs.qat;

import com.fasterxml.jackson.core.type.TypeReference;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.output.OutputDir;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

/**
 * The state of a QAT run after a complete epoch, in its own directory {@code <checkpoints>/epoch-N} written atomically
 * ({@link OutputDir}: a hidden temporary sibling renamed at the end, so a killed driver leaves no epoch directory
 * that looks complete):
 * <ul>
 *   <li>{@code model.zip}: the fake-quant ComputationGraph with its updater state (ModelSerializer); its configuration
 *       holds the hooks' ranges, the iteration count (Adam's bias correction) and the epoch count (the learning-rate
 *       schedule), so training continues exactly where it stopped;</li>
 *   <li>{@code checkpoint.json}: epoch, iteration count, the ranges by graph tensor name, the per-epoch history and
 *       the fingerprint of the run (resolved options and hashes of the inputs) a resumed run must match.</li>
 * </ul>
 *
 * @param epoch epochs completed
 * @param fingerprint option or input name to its value, as text
 */
public record QatCheckpoint(int epoch, int iterationCount, Map<String, String> fingerprint,
    Map<String, float[]> ranges, List<QatEpochStats> history) {

  public static final String FORMAT = "sparkquant.qat-checkpoint";
  public static final int FORMAT_VERSION = 1;
  static final String MODEL_FILE = "model.zip";
  static final String STATE_FILE = "checkpoint.json";
  private static final Pattern EPOCH_DIR = Pattern.compile("epoch-(\\d+)");

  /** The JSON document of {@link #STATE_FILE}. */
  record State(String format, int formatVersion, int epoch, int iterationCount, Map<String, String> fingerprint,
      Map<String, float[]> ranges, List<QatEpochStats> history) {}

  /** The directory of epoch {@code epoch}'s checkpoint. */
  static String epochDir(String checkpoints, int epoch) {
    return new Path(checkpoints, "epoch-" + epoch).toString();
  }

  /** Writes this checkpoint and {@code network} atomically into {@code <checkpoints>/epoch-<epoch>}; returns it. */
  String write(Configuration conf, String checkpoints, ComputationGraph network) {
    String dir = epochDir(checkpoints, epoch);
    try (OutputDir out = OutputDir.create(conf, dir, true)) {
      ByteArrayOutputStream zip = new ByteArrayOutputStream();
      ModelSerializer.writeModel(network, zip, true);
      out.writeBytes(MODEL_FILE, zip.toByteArray());
      out.writeJson(STATE_FILE, new State(FORMAT, FORMAT_VERSION, epoch, iterationCount, fingerprint, ranges,
          history));
      out.commit();
      return out.finalPath();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the checkpoint of epoch " + epoch + " to " + dir, e);
    }
  }

  /** The complete checkpoint with the highest epoch under {@code checkpoints}, if any (temporary ones skipped). */
  static Optional<String> latest(Configuration conf, String checkpoints) {
    try {
      Path root = new Path(checkpoints);
      FileSystem fs = root.getFileSystem(conf);
      FileStatus[] children;
      try {
        children = fs.listStatus(root);
      } catch (FileNotFoundException e) {
        return Optional.empty();
      }
      int best = -1;
      for (FileStatus s : children) {
        Matcher m = EPOCH_DIR.matcher(s.getPath().getName());
        if (s.isDirectory() && m.matches() && fs.exists(new Path(s.getPath(), STATE_FILE))) {
          best = Math.max(best, Integer.parseInt(m.group(1)));
        }
      }
      return best < 0 ? Optional.empty() : Optional.of(epochDir(checkpoints, best));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list checkpoints in " + checkpoints, e);
    }
  }

  /** True if {@code checkpoints} holds any entry (a previous run's checkpoints, complete or not). */
  static boolean exists(Configuration conf, String checkpoints) {
    try {
      Path root = new Path(checkpoints);
      FileSystem fs = root.getFileSystem(conf);
      return fs.exists(root) && fs.listStatus(root).length > 0;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list checkpoints in " + checkpoints, e);
    }
  }

  static void delete(Configuration conf, String checkpoints) {
    try {
      Path root = new Path(checkpoints);
      root.getFileSystem(conf).delete(root, true);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete old checkpoints " + checkpoints, e);
    }
  }

  /** Reads the state of the checkpoint in {@code dir}. */
  static QatCheckpoint read(Configuration conf, String dir) {
    String path = new Path(dir, STATE_FILE).toString();
    State s;
    try {
      s = OutputDir.json().readValue(HadoopFiles.readString(conf, path), new TypeReference<State>() {});
    } catch (IOException e) {
      throw new IllegalArgumentException("checkpoint " + path + " is not readable JSON: " + e.getMessage(), e);
    }
    if (!FORMAT.equals(s.format()) || s.formatVersion() != FORMAT_VERSION) {
      throw new IllegalArgumentException("checkpoint " + path + " has format " + s.format() + " version "
          + s.formatVersion() + "; this version reads " + FORMAT + " version " + FORMAT_VERSION);
    }
    return new QatCheckpoint(s.epoch(), s.iterationCount(), s.fingerprint(), s.ranges(),
        new ArrayList<>(s.history()));
  }

  /** Restores the network saved in {@code dir}, with its updater state. */
  static ComputationGraph network(Configuration conf, String dir) {
    String path = new Path(dir, MODEL_FILE).toString();
    try {
      return ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(HadoopFiles.readAllBytes(conf, path)),
          true);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot restore the network of checkpoint " + path, e);
    }
  }

  /**
   * The first difference between this checkpoint's fingerprint and {@code current}, as "name: checkpoint X, this run
   * Y", or empty if they match.
   */
  Optional<String> difference(Map<String, String> current) {
    Map<String, String> all = new LinkedHashMap<>(fingerprint);
    current.keySet().forEach(k -> all.putIfAbsent(k, null));
    for (String k : all.keySet()) {
      String was = fingerprint.get(k);
      String now = current.get(k);
      if (was == null ? now != null : !was.equals(now)) {
        return Optional.of(k + ": the checkpoint has " + was + ", this run " + now);
      }
    }
    return Optional.empty();
  }
}
