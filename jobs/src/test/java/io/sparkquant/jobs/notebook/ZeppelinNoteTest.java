package io.sparkquant.jobs.notebook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.convert.ConvertJob;
import io.sparkquant.jobs.convert.IdxFiles;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.jobs.train.TrainJob;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.tools.nsc.Settings;
import scala.tools.nsc.interpreter.IMain;
import scala.tools.nsc.interpreter.Results;

/**
 * Executes notebooks/sparkquant-quickstart.zpln as Zeppelin's Spark interpreter would: every {@code %spark}
 * paragraph, in order, in one Scala 2.12 interpreter ({@link IMain}, class-based wrappers as Spark's REPL uses) with
 * {@code spark} bound to a local Spark session, on the layout {@code ./sparkquant demo} writes (bundled subset, a cnn
 * trained on 300 rows). The only change to the note is its {@code demoDir} value. Each paragraph must compile and run,
 * and what it prints is what Zeppelin would display: checked as {@code %table} (header, rows, figures) or {@code %html}.
 */
class ZeppelinNoteTest {

  private static final Path NOTE = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
      .resolveSibling("notebooks").resolve("sparkquant-quickstart.zpln");
  private static final String DEMO_DIR_LINE = "val demoDir = \"/data/sparkquant-demo\"";

  @TempDir Path tmp;

  @Test
  void everyParagraphRunsInOrderAndShowsItsTableOrChart() throws Exception {
    SparkSession spark = SharedSpark.get();
    Path demo = tmp.resolve("demo");
    FashionMnist.Location idx = FashionMnist.locate(TestDatasets.idxDir());
    ConvertJob.idx(spark, new IdxFiles(idx.trainImages(), idx.trainLabels()), demo.resolve("data/train").toString(),
        false, FashionMnist.CLASS_NAMES, 2);
    ConvertJob.idx(spark, new IdxFiles(idx.testImages(), idx.testLabels()), demo.resolve("data/test").toString(),
        false, FashionMnist.CLASS_NAMES, 2);
    TrainJob.run(spark, new TrainJob.Options(demo.resolve("data/train").toString(), null,
        demo.resolve("model").toString(), false, 300, TrainConfig.withDefaults(Preset.CNN, 1, 2, 42)), s -> { });

    JsonNode note = new ObjectMapper().readTree(NOTE.toFile());
    Map<String, String> displayed = new LinkedHashMap<>();
    StringWriter replOut = new StringWriter();
    IMain repl = interpreter(spark, replOut);
    List<String> kinds = new ArrayList<>();
    for (JsonNode p : note.get("paragraphs")) {
      String title = p.get("title").asText();
      String text = p.get("text").asText();
      String magic = text.lines().findFirst().orElse("").trim();
      kinds.add(magic);
      if (!magic.equals("%spark")) {
        assertTrue(magic.equals("%md") || magic.equals("%spark.conf"), title + ": unexpected " + magic);
        continue;
      }
      String code = text.substring(text.indexOf('\n') + 1);
      if (code.contains(DEMO_DIR_LINE)) {
        code = code.replace(DEMO_DIR_LINE, "val demoDir = \"" + demo + "\"");
      }
      ByteArrayOutputStream printed = new ByteArrayOutputStream();
      String source = code;
      int before = replOut.getBuffer().length();
      Results.Result result = scala.Console.withOut(printed, () -> repl.interpret(source));
      String echo = replOut.getBuffer().substring(before);
      assertTrue(result instanceof Results.Success$, title + ": " + result + "\n" + echo + printed);
      displayed.put(title, printed.toString(StandardCharsets.UTF_8));
    }
    assertEquals(List.of("%md", "%spark.conf", "%spark", "%spark", "%spark", "%spark", "%spark"), kinds);

    List<String[]> labels = table(displayed.get("Load the datasets"), "label", "class", "test rows");
    assertEquals(10, labels.size());
    assertEquals(2000, labels.stream().mapToLong(r -> Long.parseLong(r[2])).sum());
    assertEquals("T-shirt/top", labels.get(0)[1]);

    List<String[]> ranges = table(displayed.get("Calibrate on the cluster"), "tensor", "observed min", "observed max",
        "chosen min", "chosen max");
    assertTrue(ranges.size() >= 5, "one row per calibrated tensor: " + ranges.size());
    for (String[] r : ranges) {
      assertTrue(Double.parseDouble(r[1]) <= Double.parseDouble(r[2])
          && Double.parseDouble(r[3]) <= Double.parseDouble(r[4]), Arrays.toString(r));
    }

    List<String[]> exports = table(displayed.get("Export dynamic-range and int8 TFLite models"), "mode", "bytes",
        "of float32", "file");
    assertEquals(List.of("float32", "dynamic", "int8"), exports.stream().map(r -> r[0]).toList());
    for (String[] r : exports) {
      assertEquals(Files.size(Path.of(r[3].replaceFirst("^file:", ""))), Long.parseLong(r[1]), r[3]);
    }
    assertTrue(Double.parseDouble(exports.get(2)[2]) < 0.35, "int8 is about a quarter of float32");

    List<String[]> scores = table(displayed.get("Score side by side on the executors"), "model", "top-1",
        "size bytes", "agreement with float");
    assertEquals(List.of("model", "model_dynamic", "model_int8"), scores.stream().map(r -> r[0]).toList());
    JsonNode metrics = new ObjectMapper().readTree(demo.resolve("notebook/eval/metrics.json").toFile());
    for (int i = 0; i < 3; i++) {
      assertEquals(String.format(Locale.ROOT, "%.4f", metrics.at("/models/" + i + "/metrics/accuracy").asDouble()),
          scores.get(i)[1]);
    }

    String html = displayed.get("Accuracy and size");
    assertTrue(html.startsWith("%html <div class=\"sparkquant-report\">"), html);
    assertEquals(2, html.split("<svg", -1).length - 1, "two charts");
    assertTrue(html.contains("model_int8"), html);
  }

  /**
   * A Scala 2.12 interpreter on this JVM's class path with {@code spark} bound, as Zeppelin's Spark interpreter;
   * its echo and compiler messages go to {@code out}.
   */
  private static IMain interpreter(SparkSession spark, StringWriter out) {
    Settings settings = new Settings();
    settings.processArgumentString("-Yrepl-class-based");
    settings.classpath().value_$eq(System.getProperty("java.class.path"));
    IMain repl = new IMain(settings, new PrintWriter(out, true));
    Results.Result bound = repl.bind("spark", SparkSession.class.getName(), spark,
        scala.collection.immutable.List$.MODULE$.empty());
    assertTrue(bound instanceof Results.Success$, out.toString());
    return repl;
  }

  /** The rows of a {@code %table} display (tab-separated, first line the header), after checking the header. */
  private static List<String[]> table(String displayed, String... header) {
    assertTrue(displayed.startsWith("%table "), displayed);
    List<String> lines = displayed.substring("%table ".length()).strip().lines().toList();
    assertEquals(List.of(header), Arrays.asList(lines.get(0).split("\t")), displayed);
    List<String[]> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split("\t");
      assertEquals(header.length, cells.length, line);
      rows.add(cells);
    }
    return rows;
  }
}
