package io.sparkquant.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * deploy/jvm-opens.txt (read by the deploy scripts and ./sparkquant) and the parent pom's
 * spark.java.opens (the test JVMs' argLine) are two spellings of one list; this keeps them equal.
 */
class JvmOpensTest {

  @Test
  void deployListEqualsTheFlagsThisTestJvmWasStartedWith() throws IOException {
    Path root = Paths.get(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().getParent();
    Path file = root.resolve("deploy/jvm-opens.txt");
    TreeSet<String> fromFile = new TreeSet<>();
    for (String line : Files.readAllLines(file)) {
      String flag = line.strip();
      if (!flag.isEmpty() && !flag.startsWith("#")) {
        fromFile.add(flag);
      }
    }
    List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
    TreeSet<String> fromPom = new TreeSet<>();
    for (String arg : jvmArgs) {
      if (arg.startsWith("--add-opens") || arg.equals("-XX:+IgnoreUnrecognizedVMOptions")
          || arg.startsWith("-Djdk.reflect.useDirectMethodHandle")) {
        fromPom.add(arg);
      }
    }
    assertEquals(fromPom, fromFile,
        file + " and the parent pom's spark.java.opens (this JVM's argLine) must list the same flags");
  }
}
