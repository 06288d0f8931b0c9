package io.sparkquant.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fashion-MNIST (Zalando Research, 2017, MIT license): class names, and where to find the IDX files.
 * Lookup order of {@link #locate(String)}: the given directory; the Debian/Ubuntu package
 * {@code dataset-fashion-mnist} ({@value #SYSTEM_DIR}); the subset bundled in this jar (600 train and 200 test
 * images per class), extracted to a cache directory.
 */
public final class FashionMnist {

  /** Label index to class name, as published with the dataset. */
  public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

  /** Where the Debian/Ubuntu package {@code dataset-fashion-mnist} installs the IDX files. */
  public static final String SYSTEM_DIR = "/usr/share/datasets/fashion-mnist";

  /** Classpath folder of the bundled subset (gzipped IDX files, LICENSE, README). */
  public static final String SUBSET_RESOURCE = "/io/sparkquant/data/fashion-mnist-subset/";

  static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
  static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
  static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
  static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
  private static final String SUBSET_VERSION = "v1";

  private static final Logger LOG = LoggerFactory.getLogger(FashionMnist.class);

  /** Where the files were found. */
  public enum Source { GIVEN_PATH, SYSTEM_PACKAGE, BUNDLED_SUBSET }

  /** Local paths of the four IDX files (each gzipped or not) and their source. */
  public record Location(String trainImages, String trainLabels, String testImages, String testLabels,
      Source source) {}

  private FashionMnist() {}

  /**
   * Finds the data. A non-blank {@code givenPath} must be a directory holding the four IDX files (named as
   * published, optionally ending in .gz); it is an error if it does not, never a silent fallback. With no given
   * path: {@value #SYSTEM_DIR} if complete, else the bundled subset extracted under
   * {@code java.io.tmpdir}.
   */
  public static Location locate(String givenPath) {
    return locate(givenPath, Path.of(SYSTEM_DIR), Path.of(System.getProperty("java.io.tmpdir")));
  }

  /** {@link #locate(String)} with the system directory and the cache root made explicit (for tests). */
  public static Location locate(String givenPath, Path systemDir, Path cacheRoot) {
    if (givenPath != null && !givenPath.isBlank()) {
      Location given = find(Path.of(givenPath), Source.GIVEN_PATH);
      if (given == null) {
        throw new IllegalArgumentException("Directory " + givenPath + " does not hold the four Fashion-MNIST IDX "
            + "files " + List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS) + " (each optionally .gz)");
      }
      return given;
    }
    Location system = find(systemDir, Source.SYSTEM_PACKAGE);
    if (system != null) {
      LOG.info("Using Fashion-MNIST from {}", systemDir);
      return system;
    }
    Location bundled = bundledSubset(cacheRoot);
    LOG.info("Fashion-MNIST not found in {}; using the bundled subset extracted to {}", systemDir,
        Path.of(bundled.trainImages()).getParent());
    return bundled;
  }

  /** Extracts the bundled subset (once per cache root and subset version) and returns its paths. */
  public static Location bundledSubset(Path cacheRoot) {
    Path dir = cacheRoot.resolve("sparkquant-fashion-mnist-subset-" + SUBSET_VERSION);
    Location ready = find(dir, Source.BUNDLED_SUBSET);
    if (ready != null) {
      return ready;
    }
    try {
      Files.createDirectories(cacheRoot);
      Path tmp = Files.createTempDirectory(cacheRoot, ".sparkquant-fashion-mnist-subset-");
      try {
        for (String name : List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)) {
          try (InputStream in = FashionMnist.class.getResourceAsStream(SUBSET_RESOURCE + name + ".gz")) {
            if (in == null) {
              throw new IllegalStateException("Bundled resource " + SUBSET_RESOURCE + name + ".gz is missing from "
                  + "the classpath");
            }
            Files.copy(in, tmp.resolve(name + ".gz"));
          }
        }
        try {
          Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException
            | java.nio.file.DirectoryNotEmptyException e) {
          // Another process extracted it concurrently; use theirs if complete.
          if (find(dir, Source.BUNDLED_SUBSET) == null) {
            throw e;
          }
        }
      } finally {
        deleteTree(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot extract the bundled Fashion-MNIST subset to " + dir, e);
    }
    return find(dir, Source.BUNDLED_SUBSET);
  }

  private static Location find(Path dir, Source source) {
    if (!Files.isDirectory(dir)) {
      return null;
    }
    Path trainImages = file(dir, TRAIN_IMAGES);
    Path trainLabels = file(dir, TRAIN_LABELS);
    Path testImages = file(dir, TEST_IMAGES);
    Path testLabels = file(dir, TEST_LABELS);
    if (trainImages == null || trainLabels == null || testImages == null || testLabels == null) {
      return null;
    }
    return new Location(trainImages.toString(), trainLabels.toString(), testImages.toString(),
        testLabels.toString(), source);
  }

  private static Path file(Path dir, String name) {
    for (String candidate : List.of(name, name + ".gz", name.replace("-idx", ".idx"),
        name.replace("-idx", ".idx") + ".gz")) {
      Path p = dir.resolve(candidate);
      if (Files.isRegularFile(p)) {
        return p.toAbsolutePath();
      }
    }
    return null;
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
