package io.sparkquant.jobs.output;

import io.sparkquant.data.OutputCommit;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsAction;
import org.apache.hadoop.security.AccessControlException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Single-file outputs written atomically, on any Hadoop file system: each file is written to a hidden temporary
 * sibling ({@link OutputCommit}) and {@link #commit()} renames them in the order they were written, so the file
 * written last (a calibration table, a .tflite) appears only after everything before it. Closing without commit
 * deletes what was written. Output directories use {@link OutputDir}.
 *
 * <pre>{@code
 * try (OutputFiles out = OutputFiles.create(conf, overwrite)) {
 *   out.write(manifestPath, manifestBytes);
 *   out.write(tablePath, tableBytes);
 *   out.commit();
 * }
 * }</pre>
 */
public final class OutputFiles implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OutputFiles.class);

  private record Pending(FileSystem fs, Path tmp, Path target, String path) {}

  private final Configuration hadoopConf;
  private final boolean overwrite;
  private final Map<String, Pending> pending = new LinkedHashMap<>();
  private boolean committed;

  private OutputFiles(Configuration hadoopConf, boolean overwrite) {
    this.hadoopConf = hadoopConf;
    this.overwrite = overwrite;
  }

  /** @param overwrite replace files that exist (never a directory); false makes an existing file an error */
  public static OutputFiles create(Configuration hadoopConf, boolean overwrite) {
    return new OutputFiles(hadoopConf, overwrite);
  }

  /**
   * Checks, without Spark, that {@code path} can become an output file: it must not be a directory, and must not
   * exist unless {@code overwrite}.
   *
   * @param option the command-line option that named the path, for the message
   */
  public static void checkWritable(Configuration hadoopConf, String path, boolean overwrite, String option) {
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(hadoopConf);
      if (fs.exists(p)) {
        if (fs.getFileStatus(p).isDirectory()) {
          throw new IllegalArgumentException(option + " " + path + " is a directory; give a file name");
        }
        if (!overwrite) {
          throw new IllegalArgumentException(option + " " + path + " already exists; choose a new path or pass "
              + "--overwrite to replace it");
        }
      }
      checkParent(fs, fs.makeQualified(p), path, option);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot check " + option + " " + path, e);
    }
  }

  /**
   * Checks that the nearest existing ancestor of {@code target} is a directory this user may write to, so that a
   * job fails before its work, naming the user's path, rather than when it moves its temporaries into place.
   *
   * @param path the output as the user wrote it; {@code option} the option that named it
   */
  static void checkParent(FileSystem fs, Path target, String path, String option) throws IOException {
    Path ancestor = target.getParent();
    while (ancestor != null && !fs.exists(ancestor)) {
      ancestor = ancestor.getParent();
    }
    if (ancestor == null) {
      return;
    }
    if (!fs.getFileStatus(ancestor).isDirectory()) {
      throw new IllegalArgumentException(option + " " + path + " cannot be created: " + ancestor
          + " is a file, not a directory");
    }
    boolean writable;
    try {
      fs.access(ancestor, FsAction.WRITE);
      // Hadoop compares permission bits only; the OS's access(2) also knows read-only mounts (root bypasses the bits)
      writable = !"file".equals(ancestor.toUri().getScheme()) || Files.isWritable(Paths.get(ancestor.toUri()));
    } catch (AccessControlException e) {
      writable = false;
    }
    if (!writable) {
      throw new IllegalArgumentException(option + " " + path + " cannot be created: directory "
          + ancestor.toUri().getPath() + " is not writable");
    }
  }

  /**
   * The error of a failed write, named by the user's path with the file system's reason (e.g. "No space left on
   * device"), never the hidden temporary path. Hadoop's local file system reports a full disk as an FSError.
   *
   * @param tmp the temporary file or directory that was being written, replaced by {@code path} in the reason
   */
  static UncheckedIOException cannotWrite(String path, Path tmp, Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String reason = String.valueOf(root.getMessage()).replace(tmp.toUri().getPath(), path);
    IOException io = e instanceof IOException x ? x : new IOException(reason, e);
    return new UncheckedIOException("Cannot write " + path + ": " + reason, io);
  }

  /** Writes {@code bytes} to a temporary sibling of {@code path} (creating missing parent directories). */
  public void write(String path, byte[] bytes) {
    if (committed) {
      throw new IllegalStateException("already committed");
    }
    if (pending.containsKey(path)) {
      throw new IllegalArgumentException(path + " was already written");
    }
    try {
      Path target = OutputCommit.qualified(new Path(path), hadoopConf);
      FileSystem fs = OutputCommit.fileSystem(target, hadoopConf);
      Path tmp = OutputCommit.temporarySibling(target);
      pending.put(path, new Pending(fs, tmp, target, path)); // before create, so close() deletes a partial file
      try (OutputStream out = fs.create(tmp, false)) {
        out.write(bytes);
      } catch (IOException | FSError e) {
        throw cannotWrite(path, tmp, e);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + path, e);
    }
  }

  /** Writes {@code value} (a Jackson-serializable object) as indented JSON, as every job output is. */
  public void writeJson(String path, Object value) {
    try {
      write(path, OutputDir.json().writeValueAsBytes(value));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UncheckedIOException("Cannot serialize " + path + " to JSON", e);
    }
  }

  /**
   * Renames every written file to its final name, in write order, as one unit: existing targets (with overwrite)
   * are moved aside first, and if any rename fails the files already renamed are removed and the previous ones
   * restored, so a failure leaves the previous outputs (a .tflite and its card) as they were. Fails before renaming
   * anything when a target appeared while the job ran and not overwrite.
   */
  public void commit() {
    if (pending.isEmpty()) {
      throw new IllegalStateException("Nothing was written");
    }
    Map<Pending, Path> asides = new LinkedHashMap<>();
    List<Pending> placed = new ArrayList<>();
    try {
      for (Pending p : pending.values()) {
        if (!p.fs().exists(p.target())) {
          continue;
        }
        if (!overwrite) {
          throw new IllegalStateException("Output " + p.path() + " appeared while the job ran; not replacing it");
        }
        if (p.fs().getFileStatus(p.target()).isDirectory()) {
          throw new IllegalStateException("Output " + p.path() + " is a directory; not replacing it with a file");
        }
      }
      for (Pending p : pending.values()) {
        if (p.fs().exists(p.target())) {
          Path aside = new Path(p.target().getParent(), "." + p.target().getName() + ".old-" + UUID.randomUUID());
          rename(p.fs(), p.target(), aside);
          asides.put(p, aside);
        }
      }
      for (Pending p : pending.values()) {
        OutputCommit.moveIntoPlace(p.fs(), p.tmp(), p.target(), false);
        placed.add(p);
        LOG.info("Wrote {}", p.target());
      }
      committed = true;
    } catch (IOException | RuntimeException e) {
      rollBack(placed, asides);
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new UncheckedIOException("Cannot move " + pending.keySet() + " into place; the previous files are "
          + "unchanged", (IOException) e);
    }
    for (Map.Entry<Pending, Path> a : asides.entrySet()) {
      try {
        a.getKey().fs().delete(a.getValue(), false);
        OutputCommit.removeStaleChecksum(a.getKey().fs(), a.getKey().target());
      } catch (IOException e) {
        LOG.warn("Cannot delete the replaced file {}", a.getValue(), e);
      }
    }
  }

  /** Undoes a partial commit: removes the files put in place and moves the previous ones back. */
  private static void rollBack(List<Pending> placed, Map<Pending, Path> asides) {
    for (Pending p : placed) {
      try {
        p.fs().delete(p.target(), false);
      } catch (IOException e) {
        LOG.warn("Cannot remove {} while rolling back", p.target(), e);
      }
    }
    for (Map.Entry<Pending, Path> a : asides.entrySet()) {
      try {
        rename(a.getKey().fs(), a.getValue(), a.getKey().target());
      } catch (IOException e) {
        LOG.error("Cannot restore {} from {}", a.getKey().target(), a.getValue(), e);
      }
    }
  }

  private static void rename(FileSystem fs, Path from, Path to) throws IOException {
    if (!fs.rename(from, to)) {
      throw new IOException("rename " + from + " -> " + to + " returned false");
    }
  }

  /** Deletes the temporary files that were not renamed. */
  @Override
  public void close() {
    for (Pending p : pending.values()) {
      try {
        if (p.fs().exists(p.tmp())) {
          p.fs().delete(p.tmp(), false);
        }
      } catch (IOException e) {
        LOG.warn("Cannot delete temporary file {}", p.tmp(), e);
      }
    }
  }
}
