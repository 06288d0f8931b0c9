package io.sparkquant.jobs.convert;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** The images/labels IDX pair of one split in a Fashion-MNIST/MNIST directory. */
public record IdxFiles(String images, String labels) {

  /** The two splits of (Fashion-)MNIST and their file name prefixes. */
  public enum Split {
    TRAIN("train"), TEST("t10k");

    final String prefix;

    Split(String prefix) {
      this.prefix = prefix;
    }
  }

  /**
   * Looks for {@code <prefix>-images-idx3-ubyte[.gz]} and {@code <prefix>-labels-idx1-ubyte[.gz]} in {@code dir}
   * (any Hadoop URI).
   */
  public static IdxFiles find(Configuration hadoopConf, String dir, Split split) {
    try {
      Path d = new Path(dir);
      FileSystem fs = d.getFileSystem(hadoopConf);
      boolean isDirectory;
      try {
        isDirectory = fs.getFileStatus(d).isDirectory();
      } catch (FileNotFoundException e) {
        isDirectory = false;
      }
      if (!isDirectory) {
        throw new IllegalArgumentException("IDX input " + dir + " is not a directory; expected a directory with "
            + split.prefix + "-images-idx3-ubyte(.gz) and " + split.prefix + "-labels-idx1-ubyte(.gz)");
      }
      return new IdxFiles(file(fs, d, dir, split.prefix + "-images-idx3-ubyte"),
          file(fs, d, dir, split.prefix + "-labels-idx1-ubyte"));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list IDX input " + dir, e);
    }
  }

  private static String file(FileSystem fs, Path d, String dir, String name) throws IOException {
    for (String candidate : new String[] {name + ".gz", name}) {
      Path p = new Path(d, candidate);
      if (fs.isFile(p)) {
        return p.toString();
      }
    }
    throw new IllegalArgumentException("Directory " + dir + " has neither " + name + ".gz nor " + name);
  }
}
