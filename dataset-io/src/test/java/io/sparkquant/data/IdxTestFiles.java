package io.sparkquant.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/** Small synthetic IDX files with seeded random content. */
final class IdxTestFiles {

  final byte[] pixels;
  final byte[] labels;
  final int count;
  final int rows;
  final int cols;

  IdxTestFiles(int count, int rows, int cols, int numClasses, long seed) {
    Random random = new Random(seed);
    this.count = count;
    this.rows = rows;
    this.cols = cols;
    this.pixels = new byte[count * rows * cols];
    random.nextBytes(pixels);
    pixels[0] = (byte) 0xff; // the extremes map to exactly 1 and 0
    pixels[1] = 0;
    this.labels = new byte[count];
    for (int i = 0; i < count; i++) {
      labels[i] = (byte) random.nextInt(numClasses);
    }
  }

  Path writeImages(Path file, boolean gzip) throws IOException {
    return write(file, gzip, new int[] {count, rows, cols}, pixels);
  }

  Path writeLabels(Path file, boolean gzip) throws IOException {
    return write(file, gzip, new int[] {count}, labels);
  }

  static Path write(Path file, boolean gzip, int[] dims, byte[] data) throws IOException {
    try (OutputStream raw = Files.newOutputStream(file);
        OutputStream out = gzip ? new GZIPOutputStream(raw) : raw) {
      IdxFile.write(out, dims, data);
    }
    return file;
  }
}
