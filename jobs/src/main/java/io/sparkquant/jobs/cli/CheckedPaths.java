package io.sparkquant.jobs.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * Input path checks that run before Spark starts, through Hadoop's FileSystem (local paths, hdfs://, any Hadoop
 * URI; default configuration). Messages name the option and the path as the user wrote it.
 */
public final class CheckedPaths {

  private CheckedPaths() {}

  public static void requireExists(String path, String option) {
    status(path, option);
  }

  /** {@code path} must be a file (a model, a table), not a directory. */
  public static void requireFile(String path, String option) {
    FileStatus s;
    try {
      s = status(path, option);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + " " + path + " is not a file: it does not exist", e);
    }
    if (!s.isFile()) {
      throw new IllegalArgumentException(option + " " + path + " is not a file: it is a directory");
    }
  }

  /** {@code path} must be a directory. */
  public static void requireDirectory(String path, String option) {
    if (!status(path, option).isDirectory()) {
      throw new IllegalArgumentException(option + " " + path + " is a file; expected a directory");
    }
  }

  private static FileStatus status(String path, String option) {
    try {
      Path p = new Path(path);
      return p.getFileSystem(new Configuration()).getFileStatus(p);
    } catch (FileNotFoundException e) {
      throw new IllegalArgumentException(option + " " + path + " does not exist", e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot check " + option + " " + path, e);
    }
  }
}
