package io.sparkquant.jobs;

import java.nio.file.Files;
import java.nio.file.Path;

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

  /** Looks for {@code <prefix>-images-idx3-ubyte[.gz]} and {@code <prefix>-labels-idx1-ubyte[.gz]}. */
  public static IdxFiles find(Path dir, Split split) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("IDX input " + dir + " is not a directory; expected a directory with "
          + split.prefix + "-images-idx3-ubyte(.gz) and " + split.prefix + "-labels-idx1-ubyte(.gz)");
    }
    return new IdxFiles(file(dir, split.prefix + "-images-idx3-ubyte"),
        file(dir, split.prefix + "-labels-idx1-ubyte"));
  }

  private static String file(Path dir, String name) {
    for (String candidate : new String[] {name + ".gz", name}) {
      Path p = dir.resolve(candidate);
      if (Files.isRegularFile(p)) {
        return p.toString();
      }
    }
    throw new IllegalArgumentException("Directory " + dir + " has neither " + name + ".gz nor " + name);
  }
}
