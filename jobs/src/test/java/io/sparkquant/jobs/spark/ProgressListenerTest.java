package io.sparkquant.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressListenerTest {

  private static final Pattern LINE = Pattern.compile(
      "progress: (.+) (\\d+)/(\\d+) rows \\((\\d+)%\\), \\d+ rows/s, \\S+ left");

  @TempDir static Path dir;

  /** Runs one job reading 800 rows from 8 Parquet files with the listener installed, and returns its lines. */
  private static List<String> run(long intervalMillis, AtomicLong clock) throws Exception {
    SparkSession spark = SharedSpark.get();
    String data = dir.resolve("rows-" + intervalMillis).toString();
    spark.range(0, 800, 1, 8).write().parquet(data);
    SparkContext sc = spark.sparkContext();
    // Reading the schema is a Spark job of its own: done before the listener is added.
    Dataset<Row> rows = spark.read().parquet(data);
    StringWriter text = new StringWriter();
    ProgressListener listener = new ProgressListener(new PrintWriter(text), intervalMillis,
        () -> clock.addAndGet(1000));
    sc.listenerBus().waitUntilEmpty();
    sc.addSparkListener(listener);
    try {
      sc.setJobDescription("count test rows");
      // One stage, one task per file (small files are not packed: openCostInBytes exceeds their size).
      assertEquals(800, rows.toJavaRDD().count());
      sc.listenerBus().waitUntilEmpty();
    } finally {
      sc.setJobDescription(null);
      sc.removeSparkListener(listener);
    }
    return text.toString().lines().toList();
  }

  @Test
  void everyTaskLineWithZeroIntervalEndsAtTotal() throws Exception {
    List<String> lines = run(0, new AtomicLong());
    assertTrue(lines.size() >= 2, lines.toString());
    long lastDone = -1;
    for (String line : lines) {
      Matcher m = LINE.matcher(line);
      assertTrue(m.matches(), line);
      assertEquals("count test rows", m.group(1));
      long done = Long.parseLong(m.group(2));
      long total = Long.parseLong(m.group(3));
      assertTrue(done <= total, line);
      assertTrue(done >= lastDone, "done never goes back: " + lines);
      lastDone = done;
    }
    Matcher last = LINE.matcher(lines.get(lines.size() - 1));
    assertTrue(last.matches());
    assertEquals(last.group(2), last.group(3), "last line is complete: " + lines);
    assertEquals("100", last.group(4));
  }

  @Test
  void atMostOneLinePerInterval() throws Exception {
    // The fake clock advances 1 s per reading, so with a 1 h interval only the first task's line and the job-end
    // line may appear.
    List<String> lines = run(3_600_000, new AtomicLong());
    assertEquals(2, lines.size(), lines.toString());
    assertFalse(lines.get(0).contains("(100%)"), lines.toString());
    assertTrue(lines.get(1).contains("(100%)"), lines.toString());
  }

  @Test
  void durations() {
    assertEquals("7s", ProgressListener.duration(7.2));
    assertEquals("2m05s", ProgressListener.duration(125));
    assertEquals("1h01m", ProgressListener.duration(3660));
  }
}
