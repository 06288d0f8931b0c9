package io.sparkquant.ops.export;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * The Fashion-MNIST IDX files of the Debian package dataset-fashion-mnist (installed by CI), for tests that need
 * real images without dataset-io (which brings Spark).
 */
public final class FashionMnistIdx {

  public static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");
  public static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
  public static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
  public static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
  public static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";

  private FashionMnistIdx() {}

  /** Skips the calling test (JUnit assumption) when the files are not installed. */
  public static void assumeInstalled() {
    for (String f : new String[] {TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS}) {
      assumeTrue(Files.isReadable(DIR.resolve(f)), "Fashion-MNIST not installed: " + DIR.resolve(f)
          + " is missing (Debian package dataset-fashion-mnist)");
    }
  }

  /** The first {@code n} IDX3 images scaled to [0, 1], row-major HWC (C = 1). */
  public static float[][] images(Path gz, int n) throws IOException {
    try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(gz)))) {
      if (in.readInt() != 0x803) {
        throw new IOException("not an IDX3 image file: " + gz);
      }
      int count = in.readInt();
      int rows = in.readInt();
      int cols = in.readInt();
      float[][] x = new float[Math.min(n, count)][rows * cols];
      byte[] buf = new byte[rows * cols];
      for (float[] img : x) {
        in.readFully(buf);
        for (int i = 0; i < buf.length; i++) {
          img[i] = (buf[i] & 0xff) / 255f;
        }
      }
      return x;
    }
  }

  /** The first {@code n} IDX1 labels. */
  public static int[] labels(Path gz, int n) throws IOException {
    try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(gz)))) {
      if (in.readInt() != 0x801) {
        throw new IOException("not an IDX1 label file: " + gz);
      }
      int count = in.readInt();
      int[] y = new int[Math.min(n, count)];
      for (int i = 0; i < y.length; i++) {
        y[i] = in.readUnsignedByte();
      }
      return y;
    }
  }
}
