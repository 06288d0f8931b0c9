package io.sparkquant.jobs.output;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkquant.data.OutputCommit;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An output directory written atomically: everything goes into a hidden sibling {@code .<name>.tmp-<uuid>}
 * and {@link #commit()} renames it to the final name ({@link OutputCommit}), so a failed job never leaves a
 * directory that looks complete. Closing without commit deletes the temporary directory. Works on any Hadoop file
 * system (local paths, HDFS, ...), so Spark writers can write into {@link #path(String)} from executors while the
 * driver writes small files (model, JSON) itself. Single-file outputs use {@link OutputFiles}.
 *
 * <pre>{@code
 * try (OutputDir out = OutputDir.create(spark.sparkContext().hadoopConfiguration(), "/runs/eval", false)) {
 *   predictions.write().parquet(out.path("predictions.parquet"));
 *   out.writeJson("metrics.json", metrics);
 *   out.commit();
 * }
 * }</pre>
 */
public final class OutputDir implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OutputDir.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final FileSystem fs;
  private final Path target;
  private final Path tmp;
  private final boolean overwrite;
  private boolean committed;

  private OutputDir(FileSystem fs, Path target, Path tmp, boolean overwrite) {
    this.fs = fs;
    this.target = target;
    this.tmp = tmp;
    this.overwrite = overwrite;
  }

  /**
   * Prepares a temporary directory next to {@code path} (created by the first write, or by a Spark writer
   * given {@link #root()}); fails if {@code path} exists and not overwrite.
   */
  public static OutputDir create(Configuration hadoopConf, String path, boolean overwrite) {
    checkWritable(hadoopConf, path, overwrite);
    try {
      Path target = OutputCommit.qualified(new Path(path), hadoopConf);
      return new OutputDir(OutputCommit.fileSystem(target, hadoopConf), target, OutputCommit.temporarySibling(target),
          overwrite);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create a temporary output directory next to " + path, e);
    }
  }

  /**
   * Checks, without Spark, that {@code path} can become an output directory: it must not exist unless
   * {@code overwrite}, and then it must be a directory (a file is never replaced).
   */
  public static void checkWritable(Configuration hadoopConf, String path, boolean overwrite) {
    try {
      Path target = OutputCommit.qualified(new Path(path), hadoopConf);
      FileSystem fs = target.getFileSystem(hadoopConf);
      if (fs.exists(target)) {
        if (!overwrite) {
          throw new IllegalArgumentException("Output " + path + " already exists; choose a new path or"
              + " pass --overwrite to replace it");
        }
        if (!fs.getFileStatus(target).isDirectory()) {
          throw new IllegalArgumentException("Output " + path + " exists and is a file, not a directory;"
              + " only directories are replaced");
        }
      }
      OutputFiles.checkParent(fs, target, path, "Output");
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot check output path " + path, e);
    }
  }

  /**
   * The temporary directory itself, not yet created: for a Spark writer that produces the whole output
   * (a Parquet dataset). Extra files in it then should start with '_' so Parquet readers skip them.
   */
  public String root() {
    return tmp.toString();
  }

  /** The path of {@code name} inside the temporary directory (for Spark writers). */
  public String path(String name) {
    return new Path(tmp, name).toString();
  }

  /** The final path of {@code name} after {@link #commit()} (for reports and manifests). */
  public String finalPath(String name) {
    return new Path(target, name).toString();
  }

  public String finalPath() {
    return target.toString();
  }

  /** Opens a new file inside the temporary directory; the caller closes it. */
  public OutputStream create(String name) throws IOException {
    return fs.create(new Path(tmp, name), false);
  }

  /** Writes {@code bytes} to {@code name}; a failure (a full disk) names the final path, not the temporary one. */
  public void writeBytes(String name, byte[] bytes) {
    try (OutputStream out = create(name)) {
      out.write(bytes);
    } catch (IOException | FSError e) {
      throw OutputFiles.cannotWrite(finalPath(name), new Path(tmp, name), e);
    }
  }

  /** Writes {@code value} (a Jackson-serializable object: map, record, JsonNode) as indented JSON. */
  public void writeJson(String name, Object value) {
    try {
      writeBytes(name, JSON.writeValueAsBytes(value));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot serialize " + name + " to JSON", e);
    }
  }

  /** Renames the temporary directory to the final name (replacing an old directory if overwrite). */
  public void commit() {
    try {
      if (!fs.exists(tmp)) {
        throw new IllegalStateException("Nothing was written to " + tmp);
      }
      if (!overwrite && fs.exists(target)) {
        throw new IllegalStateException("Output " + target + " appeared while the job ran; not replacing it");
      }
      OutputCommit.moveIntoPlace(fs, tmp, target, overwrite);
      committed = true;
      LOG.info("Wrote {}", target);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot move " + tmp + " to " + target, e);
    }
  }

  /** Deletes the temporary directory unless committed. */
  @Override
  public void close() {
    if (committed) {
      return;
    }
    try {
      fs.delete(tmp, true);
    } catch (IOException e) {
      LOG.warn("Cannot delete temporary output {}", tmp, e);
    }
  }

  /** The JSON mapper used for all job outputs. */
  public static ObjectMapper json() {
    return JSON;
  }
}
