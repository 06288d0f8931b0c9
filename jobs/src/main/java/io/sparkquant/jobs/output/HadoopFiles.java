package io.sparkquant.jobs.output;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/** Whole-file reads on the driver through Hadoop's FileSystem, so any Hadoop URI works where a local path does. */
public final class HadoopFiles {

  private HadoopFiles() {}

  /** The bytes of {@code path} (a model, a table); the message of a failure names the path as given. */
  public static byte[] readAllBytes(Configuration hadoopConf, String path) {
    Path p = new Path(path);
    try (InputStream in = p.getFileSystem(hadoopConf).open(p)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + path + ": " + e.getMessage(), e);
    }
  }

  public static String readString(Configuration hadoopConf, String path) {
    return new String(readAllBytes(hadoopConf, path), StandardCharsets.UTF_8);
  }

  /** {@code path} made absolute, as outputs and messages record it: without the scheme for local files. */
  public static String qualified(Configuration hadoopConf, String path) {
    try {
      Path p = new Path(path);
      Path q = p.getFileSystem(hadoopConf).makeQualified(p);
      return "file".equals(q.toUri().getScheme()) ? q.toUri().getPath() : q.toString();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot resolve " + path, e);
    }
  }
}
