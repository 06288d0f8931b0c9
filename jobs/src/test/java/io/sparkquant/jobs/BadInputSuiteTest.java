package io.sparkquant.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.RawTensorFiles;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.cli.ErrorContract;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * The error contract, case by case, as a user meets it: bad datasets, models, tables, options and output
 * locations. Every case asserts the documented exit code, one line on stderr naming the file or option, no stack
 * trace (without --verbose), nothing new under the work directory and every file there unchanged.
 */
class BadInputSuiteTest {

  @TempDir static Path work;
  static Path in;
  static String model;
  static String otherTable;
  static String existing;
  static String aFile;
  static Path full;
  static Path readOnly;
  static String noMountReason;
  static final List<Path> mounted = new ArrayList<>();

  @BeforeAll
  static void setUp() throws IOException {
    in = work.resolve("in");
    Files.createDirectories(in);
    model = TinyModels.model(1);
    otherTable = TinyModels.table(2);
    DatasetInfo fm = new DatasetInfo(new int[] {28, 28, 1}, FashionMnist.CLASS_NAMES);
    List<RawTensorFiles.RawRow> labelRows = new ArrayList<>();
    List<RawTensorFiles.RawRow> lengthRows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      float[] f = new float[784];
      Arrays.fill(f, 0.25f);
      labelRows.add(new RawTensorFiles.RawRow(f, i == 7 ? 12 : i % 10, i));
      lengthRows.add(new RawTensorFiles.RawRow(i == 5 ? new float[100_000] : f, i % 10, i));
    }
    Files.createDirectories(in.resolve("badlabel"));
    RawTensorFiles.write(in.resolve("badlabel/part-00000.parquet").toString(), fm, labelRows);
    Files.createDirectories(in.resolve("longrow"));
    RawTensorFiles.write(in.resolve("longrow/part-00000.parquet").toString(), fm, lengthRows);
    Files.createDirectories(in.resolve("notparquet"));
    Files.writeString(in.resolve("notparquet/part-00000.parquet"), "not parquet");
    Files.write(in.resolve("garbage.zip"), new byte[] {'P', 'K', 3, 4, 1, 2, 3});
    Files.write(in.resolve("garbage.tflite"), "this is not a flatbuffer at all, not even close".getBytes());
    Files.writeString(in.resolve("notjson.json"), "{ \"format\": ");
    String table = Files.readString(Path.of(TinyModels.table(1)), StandardCharsets.UTF_8);
    Files.writeString(in.resolve("edited.json"), table.replaceFirst("\"scale\" : [0-9.eE-]+", "\"scale\" : 0.5"));
    existing = in.resolve("existing.tflite").toString();
    Files.writeString(Path.of(existing), "previous model");
    Files.writeString(in.resolve("existing.json"), "previous card");
    Files.createDirectories(in.resolve("existing-dir"));
    Files.writeString(in.resolve("existing-dir/metrics.json"), "previous metrics");
    aFile = in.resolve("a-file").toString();
    Files.writeString(Path.of(aFile), "x");
    mountSmallFileSystems();
  }

  /**
   * Two real small file systems (tmpfs): {@code full}, 1 MiB holding previous outputs and a filler that leaves no
   * free block, and {@code readonly}, remounted read-only (which root cannot write either, unlike a chmod'ed
   * directory). Mounting needs root, as CI runs; elsewhere the cases that use them are skipped, with the reason.
   */
  private static void mountSmallFileSystems() throws IOException {
    if (!"root".equals(System.getProperty("user.name"))) {
      noMountReason = "mounting a tmpfs needs root (user " + System.getProperty("user.name") + ")";
      return;
    }
    full = work.resolve("full");
    readOnly = work.resolve("readonly");
    Files.createDirectories(full);
    Files.createDirectories(readOnly);
    String failure = command("mount", "-t", "tmpfs", "-o", "size=1m", "sparkquant-full", full.toString());
    if (failure != null) {
      noMountReason = "cannot mount a tmpfs: " + failure;
      return;
    }
    mounted.add(full);
    Files.writeString(full.resolve("t.json"), "previous table");
    Files.createDirectories(full.resolve("m"));
    Files.writeString(full.resolve("m/model.zip"), "previous model");
    try (OutputStream filler = Files.newOutputStream(full.resolve("filler"))) {
      byte[] block = new byte[4096];
      while (true) {
        filler.write(block);
      }
    } catch (IOException noSpaceLeft) {
      // the file system is full now
    }
    if ((failure = command("mount", "-t", "tmpfs", "-o", "size=1m", "sparkquant-ro", readOnly.toString())) != null) {
      noMountReason = "cannot mount a second tmpfs: " + failure;
      return;
    }
    mounted.add(readOnly);
    Files.writeString(readOnly.resolve("previous.json"), "previous table");
    if ((failure = command("mount", "-o", "remount,ro", readOnly.toString())) != null) {
      noMountReason = "cannot remount a tmpfs read-only: " + failure;
    }
  }

  @AfterAll
  static void unmount() {
    for (Path m : mounted) {
      if (command("umount", m.toString()) != null) {
        assertEquals(null, command("umount", "-l", m.toString()), "umount -l " + m); // busy: detach it now
      }
    }
  }

  /** Runs a command; null when it exits 0, else its exit code and output. */
  private static String command(String... args) {
    try {
      Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      return p.waitFor() == 0 ? null : "'" + String.join(" ", args) + "' exited with " + p.exitValue() + ": " + output;
    } catch (IOException e) {
      return e.toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e.toString();
    }
  }

  /** A case: arguments, exit code, fragments the one line must hold. */
  record Case(String name, int code, List<String> args, List<String> fragments) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case c(String name, int code, String[] fragments, String... args) {
    return new Case(name, code, List.of(args), List.of(fragments));
  }

  static String[] says(String... s) {
    return s;
  }

  static String p(String relative) {
    return in.resolve(relative).toString();
  }

  static String out(String relative) {
    return work.resolve("out").resolve(relative).toString();
  }

  static Stream<Arguments> cases() {
    String test = TestDatasets.test();
    String train = TestDatasets.train();
    return Stream.of(
        // datasets
        c("evaluate: label out of range in a task", 1, says(p("badlabel"), "'label'", "row id 7", "12"),
            "evaluate", "--model", model, "--data", p("badlabel"), "--out", out("eval")),
        c("calibrate: row longer than the shape", 1, says(p("longrow"), "'features'", "row id 5", "100000 values"),
            "calibrate", "--model", model, "--data", p("longrow"), "--out", out("t.json")),
        c("train: row longer than the shape", 1, says(p("longrow"), "'features'", "100000 values"),
            "train", "--preset", "mlp", "--epochs", "1", "--data", p("longrow"), "--out", out("m")),
        c("evaluate: files that are not Parquet", 1, says(p("notparquet"), "Parquet"),
            "evaluate", "--model", model, "--data", p("notparquet"), "--out", out("eval")),
        c("train: missing dataset", 2, says("--data", p("nothing")),
            "train", "--data", p("nothing"), "--out", out("m")),
        // models
        c("quantize: damaged model zip", 1, says("garbage.zip"),
            "quantize", "--model", p("garbage.zip"), "--mode", "float32", "--out", out("m.tflite")),
        c("evaluate: damaged .tflite", 1, says("garbage.tflite"),
            "evaluate", "--model", p("garbage.tflite"), "--data", test, "--out", out("eval")),
        c("calibrate: damaged model zip", 1, says("garbage.zip"),
            "calibrate", "--model", p("garbage.zip"), "--data", train, "--out", out("t.json")),
        c("quantize: missing model", 2, says("--model", p("none.zip")),
            "quantize", "--model", p("none.zip"), "--mode", "float32", "--out", out("m.tflite")),
        // tables
        c("quantize: table of another model", 1, says(otherTable, model, "another model", "fingerprint"),
            "quantize", "--model", model, "--mode", "int8", "--calibration", otherTable, "--out", out("m.tflite")),
        c("quantize: hand-edited table", 1, says(p("edited.json"), "scale"),
            "quantize", "--model", model, "--mode", "int8", "--calibration", p("edited.json"), "--out",
            out("m.tflite")),
        c("quantize: table is not JSON", 1, says(p("notjson.json"), "JSON"),
            "quantize", "--model", model, "--mode", "int8", "--calibration", p("notjson.json"), "--out",
            out("m.tflite")),
        // options
        c("quantize: unknown mode", 2, says("--mode", "int9"),
            "quantize", "--model", model, "--mode", "int9", "--out", out("m.tflite")),
        c("calibrate: --rows 0", 2, says("--rows", "0"),
            "calibrate", "--model", model, "--data", train, "--rows", "0", "--out", out("t.json")),
        c("train: unknown preset", 2, says("preset", "resnet"),
            "train", "--preset", "resnet", "--data", train, "--out", out("m")),
        c("evaluate: unknown option", 2, says("--bogus"),
            "evaluate", "--bogus", "--model", model, "--data", test, "--out", out("eval")),
        // output locations
        c("quantize: --out exists", 2, says("--out", existing, "--overwrite"),
            "quantize", "--model", model, "--mode", "float32", "--out", existing),
        c("quantize: --out is a directory", 2, says("--out", p("existing-dir")),
            "quantize", "--model", model, "--mode", "float32", "--out", p("existing-dir")),
        c("calibrate: --out under a file", 2, says("--out", aFile, "is a file"),
            "calibrate", "--model", model, "--data", train, "--out", aFile + "/t.json"),
        c("evaluate: --out exists", 2, says(p("existing-dir"), "--overwrite"),
            "evaluate", "--model", model, "--data", test, "--out", p("existing-dir")),
        c("train: --out under a file", 2, says(aFile, "is a file"),
            "train", "--data", train, "--out", aFile + "/m"))
        .map(Arguments::of);
  }

  /**
   * Output locations on real file systems that cannot take the output: read-only (refused before any work, naming
   * the user's path) and full (the write fails: the previous outputs stay as they were, nothing partial is left).
   */
  static Stream<Arguments> mountedCases() {
    if (noMountReason != null) {
      return Stream.of(Arguments.of(new Case("(skipped)", 0, List.of(), List.of())));
    }
    String train = TestDatasets.train();
    String table = full.resolve("t.json").toString();
    String modelDir = full.resolve("m").toString();
    String roTable = readOnly.resolve("t.json").toString();
    String roModelDir = readOnly.resolve("m").toString();
    return Stream.of(
        c("calibrate: --out on a read-only file system", 2, says("--out", roTable, "not writable"),
            "calibrate", "--model", model, "--data", train, "--out", roTable),
        c("train: --out on a read-only file system", 2, says(roModelDir, "not writable"),
            "train", "--preset", "mlp", "--data", train, "--out", roModelDir),
        c("quantize: --out on a read-only file system", 2, says("--out", readOnly.resolve("m.tflite").toString(),
                "not writable"),
            "quantize", "--model", model, "--mode", "float32", "--out", readOnly.resolve("m.tflite").toString()),
        // the table's manifest is written first: the line names it
        c("calibrate: disk full while writing the table", 1, says(full.resolve("t.").toString(),
                "No space left on device"),
            "calibrate", "--model", model, "--data", train, "--rows", "50", "--overwrite", "--out", table),
        c("train: disk full while writing the model", 1, says(modelDir, "model.zip", "No space left on device"),
            "train", "--preset", "mlp", "--epochs", "1", "--limit", "100", "--data", train, "--overwrite",
            "--out", modelDir))
        .map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("mountedCases")
  void unwritableOutputLocationsLoseNothing(Case c) throws IOException {
    Assumptions.assumeTrue(noMountReason == null, () -> noMountReason);
    refusedOnOneLineWithItsExitCodeAndNothingWritten(c);
  }

  /**
   * A --validation dataset with a bad row is refused before the first epoch: the row check runs as its own job
   * first, and no training round (nor, for qat, the calibration that precedes it) starts.
   */
  @ParameterizedTest
  @ValueSource(strings = {"train", "qat"})
  void badValidationRowsAreRefusedBeforeTheFirstEpoch(String command) throws Exception {
    List<String> jobs = new CopyOnWriteArrayList<>();
    SparkListener listener = new SparkListener() {
      @Override
      public void onJobStart(SparkListenerJobStart start) {
        jobs.add(String.valueOf(start.properties().getProperty("spark.job.description")));
      }
    };
    SparkSession spark = SharedSpark.get();
    spark.sparkContext().addSparkListener(listener);
    try {
      String train = TestDatasets.train();
      Case c = command.equals("train")
          ? c("train: label out of range in --validation", 1, says(p("badlabel"), "'label'", "row id 7", "12"),
              "train", "--preset", "mlp", "--epochs", "3", "--limit", "200", "--data", train, "--validation",
              p("badlabel"), "--out", out("m"))
          : c("qat: label out of range in --validation", 1, says(p("badlabel"), "'label'", "row id 7", "12"),
              "qat", "--model", model, "--epochs", "3", "--limit", "200", "--data", train, "--validation",
              p("badlabel"), "--out", out("q"));
      refusedOnOneLineWithItsExitCodeAndNothingWritten(c);
      // listener events arrive asynchronously, in order: a job of our own marks the end of the command's
      spark.sparkContext().setJobDescription("test: end of " + command);
      spark.range(1).count();
      spark.sparkContext().setJobDescription(null);
      long deadline = System.currentTimeMillis() + 30_000;
      while (!jobs.contains("test: end of " + command) && System.currentTimeMillis() < deadline) {
        Thread.sleep(50);
      }
      assertTrue(jobs.contains("check the rows of " + p("badlabel")), "no validation check job: " + jobs);
      assertTrue(jobs.stream().noneMatch(j -> j.startsWith("train: epoch") || j.startsWith("calibrate:")),
          "training or calibration started before the validation rows were checked: " + jobs);
    } finally {
      spark.sparkContext().removeSparkListener(listener);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void refusedOnOneLineWithItsExitCodeAndNothingWritten(Case c) throws IOException {
    Map<String, String> before = snapshot();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(c.args().toArray(new String[0]));
    String text = err.toString().strip();
    assertEquals(c.code(), code, c + ": " + text);
    assertEquals(1, text.lines().count(), c + ": not one line:\n" + text);
    assertTrue(text.startsWith("sparkquant " + c.args().get(0) + ": "), text);
    for (String f : c.fragments()) {
      assertTrue(text.contains(f), c + ": the line does not name '" + f + "': " + text);
    }
    assertFalse(text.contains("\tat ") || text.contains("rerun with --verbose"), text);
    assertEquals(before, snapshot(), c + ": the work directory changed");
  }

  @org.junit.jupiter.api.Test
  void verbosePrintsTheStackTraceToo() {
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute("quantize", "--verbose", "--model", model, "--mode", "int8", "--calibration",
        otherTable, "--out", out("m.tflite"));
    assertEquals(ErrorContract.BAD_INPUT, code);
    assertTrue(err.toString().contains("\tat io.sparkquant."), err.toString());
    assertTrue(err.toString().strip().lines().reduce((a, b) -> b).orElse("").contains("another model"),
        err.toString());
  }

  /** Every path under the work directory (hidden ones too) with its size and content hash. */
  private static Map<String, String> snapshot() throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> all = Files.walk(work)) {
      all.forEach(p -> {
        try {
          m.put(work.relativize(p).toString(), Files.isDirectory(p) ? "dir"
              : Files.size(p) + ":" + Arrays.hashCode(Files.readAllBytes(p)));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
    return m;
  }
}
