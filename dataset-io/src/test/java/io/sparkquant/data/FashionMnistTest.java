package io.sparkquant.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sparkquant.data.tools.FashionMnistSubsetTool;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

  @TempDir Path tmp;

  @Test
  void bundledSubsetIsStratified() throws Exception {
    FashionMnist.Location loc = FashionMnist.bundledSubset(tmp);
    assertEquals(FashionMnist.Source.BUNDLED_SUBSET, loc.source());
    assertStratified(loc.trainImages(), loc.trainLabels(), 600);
    assertStratified(loc.testImages(), loc.testLabels(), 200);
    // a second call reuses the extracted copy
    assertEquals(loc, FashionMnist.bundledSubset(tmp));
  }

  private static void assertStratified(String images, String labels, int perClass) throws Exception {
    IdxFile.Contents l = IdxFile.read(Path.of(labels), IdxFile.LABELS_MAGIC);
    IdxFile.Contents i = IdxFile.read(Path.of(images), IdxFile.IMAGES_MAGIC);
    assertArrayEquals(new int[] {10 * perClass, 28, 28}, i.header().dims());
    int[] counts = new int[10];
    for (byte b : l.data()) {
      counts[b]++;
    }
    for (int c = 0; c < 10; c++) {
      assertEquals(perClass, counts[c], "class " + c);
    }
  }

  /** The bundled files hold exactly what the documented seeded rule selects from the full dataset. */
  @Test
  void bundledSubsetIsReproducibleFromTheSystemPackage() throws Exception {
    Path system = Path.of(FashionMnist.SYSTEM_DIR);
    assumeTrue(Files.isDirectory(system), "needs the Debian package dataset-fashion-mnist");
    for (String[] split : FashionMnistSubsetTool.splits()) {
      byte[][] expected = FashionMnistSubsetTool.subset(system, split[0], split[1], Integer.parseInt(split[2]));
      assertArrayEquals(expected[0], resource(split[0]), split[0]);
      assertArrayEquals(expected[1], resource(split[1]), split[1]);
    }
  }

  private static byte[] resource(String name) throws Exception {
    try (InputStream in = FashionMnist.class.getResourceAsStream(FashionMnist.SUBSET_RESOURCE + name + ".gz")) {
      return IdxFile.decompressIfGzipped(new ByteArrayInputStream(in.readAllBytes())).readAllBytes();
    }
  }

  @Test
  void locateOrderGivenThenSystemThenBundled() throws Exception {
    Path given = tmp.resolve("given");
    Files.createDirectories(given);
    for (String name : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte.gz",
        "t10k-images.idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
      Files.writeString(given.resolve(name), "x");
    }
    Path cache = tmp.resolve("cache");
    FashionMnist.Location g = FashionMnist.locate(given.toString(), tmp.resolve("no-system"), cache);
    assertEquals(FashionMnist.Source.GIVEN_PATH, g.source());
    assertEquals(given.resolve("train-labels-idx1-ubyte.gz").toAbsolutePath().toString(), g.trainLabels());
    assertEquals(given.resolve("t10k-images.idx3-ubyte").toAbsolutePath().toString(), g.testImages());

    FashionMnist.Location s = FashionMnist.locate(null, given, cache);
    assertEquals(FashionMnist.Source.SYSTEM_PACKAGE, s.source());

    FashionMnist.Location b = FashionMnist.locate("", tmp.resolve("no-system"), cache);
    assertEquals(FashionMnist.Source.BUNDLED_SUBSET, b.source());
    assertEquals(cache, Path.of(b.trainImages()).getParent().getParent());

    Files.delete(given.resolve("t10k-labels-idx1-ubyte"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FashionMnist.locate(given.toString(), tmp.resolve("no-system"), cache));
    assertEquals(true, e.getMessage().contains(given.toString()), e.getMessage());
  }
}
