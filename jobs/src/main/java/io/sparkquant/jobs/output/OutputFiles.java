package io.sparkquant.jobs.output;

import io.sparkquant.data.OutputCommit;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
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
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot check " + option + " " + path, e);
    }
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
   * Renames every written file to its final name, in write order. Fails before renaming anything when a target
   * appeared while the job ran and not overwrite.
   */
  public void commit() {
    if (pending.isEmpty()) {
      throw new IllegalStateException("Nothing was written");
    }
    try {
      if (!overwrite) {
        for (Pending p : pending.values()) {
          if (p.fs().exists(p.target())) {
            throw new IllegalStateException("Output " + p.path() + " appeared while the job ran; not replacing it");
          }
        }
      }
      for (Pending p : pending.values()) {
        if (p.fs().exists(p.target()) && p.fs().getFileStatus(p.target()).isDirectory()) {
          throw new IllegalStateException("Output " + p.path() + " is a directory; not replacing it with a file");
        }
        OutputCommit.moveIntoPlace(p.fs(), p.tmp(), p.target(), overwrite);
        LOG.info("Wrote {}", p.target());
      }
      committed = true;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot move " + pending.keySet() + " into place", e);
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
