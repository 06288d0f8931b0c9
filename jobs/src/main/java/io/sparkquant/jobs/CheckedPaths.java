package io.sparkquant.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/** Input path checks that run before Spark starts (any Hadoop file system; default configuration). */
final class CheckedPaths {

  private CheckedPaths() {}

  static void requireExists(String path, String option) {
    try {
      Path p = new Path(path);
      if (!p.getFileSystem(new Configuration()).exists(p)) {
        throw new IllegalArgumentException(option + " " + path + " does not exist");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot check " + option + " " + path, e);
    }
  }
}
