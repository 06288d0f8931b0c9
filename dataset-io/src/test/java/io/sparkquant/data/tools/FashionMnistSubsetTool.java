package io.sparkquant.data.tools;

import io.sparkquant.data.IdxFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Regenerates the bundled Fashion-MNIST subset (dataset-io/src/main/resources/io/sparkquant/data/
 * fashion-mnist-subset/). Rule: for each class, the {@code perClass} records of the split with the smallest
 * {@code splitMix64(SEED + index)} (unsigned), written in their original order.
 *
 * <pre>
 * mvn -o -q -B -pl dataset-io test-compile
 * java -cp dataset-io/target/classes:dataset-io/target/test-classes \
 *   io.sparkquant.data.tools.FashionMnistSubsetTool /usr/share/datasets/fashion-mnist \
 *   dataset-io/src/main/resources/io/sparkquant/data/fashion-mnist-subset
 * </pre>
 */
public final class FashionMnistSubsetTool {

  public static final long SEED = 20170825L;
  public static final int TRAIN_PER_CLASS = 600;
  public static final int TEST_PER_CLASS = 200;
  public static final int NUM_CLASSES = 10;

  private FashionMnistSubsetTool() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: FashionMnistSubsetTool <dir with the 4 Fashion-MNIST IDX files> <output dir>");
      System.exit(2);
    }
    Path out = Path.of(args[1]);
    Files.createDirectories(out);
    for (String[] split : splits()) {
      byte[][] idx = subset(Path.of(args[0]), split[0], split[1], Integer.parseInt(split[2]));
      writeGzip(out.resolve(split[0] + ".gz"), idx[0]);
      writeGzip(out.resolve(split[1] + ".gz"), idx[1]);
      System.out.println("wrote " + split[0] + ".gz and " + split[1] + ".gz to " + out);
    }
  }

  /** {images, labels, perClass} file names of the two splits. */
  public static List<String[]> splits() {
    return List.of(
        new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", Integer.toString(TRAIN_PER_CLASS)},
        new String[] {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", Integer.toString(TEST_PER_CLASS)});
  }

  /** The uncompressed IDX bytes {images, labels} of the subset of one split. */
  public static byte[][] subset(Path sourceDir, String imagesName, String labelsName, int perClass)
      throws IOException {
    IdxFile.Contents images = IdxFile.read(resolve(sourceDir, imagesName), IdxFile.IMAGES_MAGIC);
    IdxFile.Contents labels = IdxFile.read(resolve(sourceDir, labelsName), IdxFile.LABELS_MAGIC);
    int[] chosen = select(labels.data(), perClass, SEED);
    int recordBytes = images.header().recordBytes();
    byte[] imageData = new byte[chosen.length * recordBytes];
    byte[] labelData = new byte[chosen.length];
    for (int i = 0; i < chosen.length; i++) {
      System.arraycopy(images.data(), chosen[i] * recordBytes, imageData, i * recordBytes, recordBytes);
      labelData[i] = labels.data()[chosen[i]];
    }
    int[] imageDims = images.header().dims();
    imageDims[0] = chosen.length;
    return new byte[][] {idx(imageDims, imageData), idx(new int[] {chosen.length}, labelData)};
  }

  /** Indices (ascending) of the perClass records per class with the smallest seeded hash. */
  public static int[] select(byte[] labels, int perClass, long seed) {
    List<List<Integer>> byClass = new ArrayList<>();
    for (int c = 0; c < NUM_CLASSES; c++) {
      byClass.add(new ArrayList<>());
    }
    for (int i = 0; i < labels.length; i++) {
      byClass.get(labels[i] & 0xff).add(i);
    }
    List<Integer> chosen = new ArrayList<>();
    for (int c = 0; c < NUM_CLASSES; c++) {
      List<Integer> members = byClass.get(c);
      if (members.size() < perClass) {
        throw new IllegalArgumentException("class " + c + " has " + members.size() + " records, need " + perClass);
      }
      members.sort((a, b) -> Long.compareUnsigned(splitMix64(seed + a), splitMix64(seed + b)));
      chosen.addAll(members.subList(0, perClass));
    }
    int[] result = chosen.stream().mapToInt(Integer::intValue).toArray();
    Arrays.sort(result);
    return result;
  }

  /** SplitMix64's output function (Steele, Lea, Flood 2014): a fixed, well-mixed hash of a long. */
  static long splitMix64(long x) {
    long z = x + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private static Path resolve(Path dir, String name) {
    Path gz = dir.resolve(name + ".gz");
    return Files.exists(gz) ? gz : dir.resolve(name);
  }

  private static byte[] idx(int[] dims, byte[] data) throws IOException {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    IdxFile.write(bytes, dims, data);
    return bytes.toByteArray();
  }

  private static void writeGzip(Path file, byte[] content) throws IOException {
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      out.write(content);
    }
  }
}
