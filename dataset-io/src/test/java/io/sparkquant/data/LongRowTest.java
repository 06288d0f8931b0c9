package io.sparkquant.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A row far longer than the declared shape is refused by its length before it goes further (into a batch, a model
 * input): a dataset with one 4-million-float row, read under a 512 MiB heap in a separate JVM ({@link Probe}), fails
 * with the one-line message naming file, column, row and length, not with OutOfMemoryError. Spark's vectorized reader
 * decodes the whole row before any check can see it, so the heap must hold that decoding: for a 10-million-float
 * row it peaked at about 512 MiB (failing at 448 MiB, and in one CI run at 512), hence the smaller row.
 */
class LongRowTest {

  static final int LONG_ROW = 4_000_000;
  static final DatasetInfo INFO = new DatasetInfo(new int[] {2, 2, 1}, List.of("a", "b", "c"));

  @TempDir Path tmp;

  @Test
  void fourMillionFloatRowIsRefusedByLengthUnder512MiB() throws Exception {
    String dir = tmp.resolve("long").toString();
    SharedSpark.get().range(3).selectExpr(
        "IF(id = 1, array_repeat(CAST(0.5 AS FLOAT), " + LONG_ROW + "), array_repeat(CAST(0.5 AS FLOAT), 4))"
            + " AS features", "CAST(0 AS INT) AS label", "id")
        .coalesce(1).write().parquet(dir);

    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> !a.startsWith("-Xmx") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent"))
        .forEach(command::add);
    command.add("-Xmx512m");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Probe.class.getName());
    command.add(dir);
    Path log = tmp.resolve("probe.log");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "probe did not finish");
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out);
    String refused = out.lines().filter(l -> l.startsWith("REFUSED: ")).findFirst().orElse("");
    assertTrue(refused.contains("'features'") && refused.contains("row id 1") && refused.contains("part-")
        && refused.contains("expected 4 values (shape 2,2,1), found " + LONG_ROW + " values"), out);
    assertFalse(out.contains("OutOfMemoryError"), out);
  }

  /** Reads the dataset in a small heap; prints the refusal and exits 0, or exits 3 on OutOfMemoryError. */
  public static final class Probe {
    public static void main(String[] args) {
      SparkSession spark = SparkSession.builder().master("local[1]").appName("long-row-probe")
          .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
      int code;
      try {
        TensorDatasets.load(spark, args[0], INFO).rows().collectAsList();
        System.out.println("ACCEPTED");
        code = 2;
      } catch (OutOfMemoryError e) {
        System.out.println("OOM: " + e);
        code = 3;
      } catch (Exception e) { // SparkException is checked but undeclared
        InvalidDatasetException ide = InvalidDatasetException.findIn(e).orElse(null);
        System.out.println(ide == null ? "OTHER: " + e : "REFUSED: " + ide.getMessage());
        code = ide == null ? 4 : 0;
      }
      spark.stop();
      System.exit(code);
    }
  }
}
