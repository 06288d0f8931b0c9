package io.sparkquant.data;

import java.io.IOException;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * How every output of the project becomes visible atomically, on any Hadoop file system: it is written under a
 * hidden temporary sibling ({@code .<name>.tmp-<uuid>}) and moved into place only when complete, so a failed job
 * never leaves an output that looks complete. {@link TensorDatasets#write} uses it directly; the jobs module wraps
 * it for output directories and single files.
 */
public final class OutputCommit {

  private OutputCommit() {}

  /**
   * The file system to write {@code p} with. For local paths the raw one: Hadoop's default local file system
   * writes a {@code .<name>.crc} checksum file next to every file, which users would find beside their outputs.
   * Readers need no change: a local file without its .crc is read unchecked.
   */
  public static FileSystem fileSystem(Path p, Configuration conf) throws IOException {
    FileSystem fs = p.getFileSystem(conf);
    return fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
  }

  /** {@code path} made absolute on its file system, so that it has a parent for the temporary sibling. */
  public static Path qualified(Path path, Configuration conf) throws IOException {
    return path.getFileSystem(conf).makeQualified(path);
  }

  /** A new hidden name next to {@code target} (qualified) for writing it; Spark and Parquet readers skip it. */
  public static Path temporarySibling(Path target) {
    return new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
  }

  /**
   * Renames the complete {@code tmp} to {@code target}. An existing {@code target} (a file or directory) is an
   * error unless {@code overwrite}; then it is moved aside first and deleted only after the rename succeeded, so a
   * failed rename leaves the old output in place.
   *
   * @throws FileAlreadyExistsException when {@code target} exists and not {@code overwrite} (it appeared while the
   *     job ran, if the job checked before it started)
   */
  public static void moveIntoPlace(FileSystem fs, Path tmp, Path target, boolean overwrite) throws IOException {
    if (!fs.exists(tmp)) {
      throw new IOException("Nothing was written to " + tmp);
    }
    Path old = null;
    if (fs.exists(target)) {
      if (!overwrite) {
        throw new FileAlreadyExistsException(target + " appeared while the job ran; not replacing it");
      }
      old = new Path(target.getParent(), "." + target.getName() + ".old-" + UUID.randomUUID());
      rename(fs, target, old);
    }
    try {
      rename(fs, tmp, target);
    } catch (IOException e) {
      if (old != null && !fs.exists(target)) {
        fs.rename(old, target);
      }
      throw e;
    }
    if (old != null) {
      fs.delete(old, true);
      removeStaleChecksum(fs, target);
    }
  }

  /**
   * After {@code target} was replaced: a file written earlier through the checksumming local file system left its
   * checksum beside it; a stale one would fail every later read of the new file.
   */
  public static void removeStaleChecksum(FileSystem fs, Path target) throws IOException {
    Path staleCrc = new Path(target.getParent(), "." + target.getName() + ".crc");
    if (fs instanceof RawLocalFileSystem && fs.exists(staleCrc)) {
      fs.delete(staleCrc, false);
    }
  }

  private static void rename(FileSystem fs, Path from, Path to) throws IOException {
    if (!fs.rename(from, to)) {
      throw new IOException("rename " + from + " -> " + to + " returned false");
    }
  }
}
