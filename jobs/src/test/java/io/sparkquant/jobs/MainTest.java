package io.sparkquant.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** The command line without Spark: help everywhere, described options, validation before Spark starts. */
class MainTest {

  @TempDir Path tmp;

  /** Runs the CLI capturing stdout and stderr. */
  private record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void helpWorksForEverySubcommand() {
    Run top = run("--help");
    assertEquals(0, top.exitCode());
    for (String name : Main.commandLine().getSubcommands().keySet()) {
      Run sub = run(name, "--help");
      assertEquals(0, sub.exitCode(), name + " --help: " + sub.err());
      assertTrue(sub.out().contains("Usage: sparkquant " + name), sub.out());
    }
    for (String name : new String[] {"convert", "train", "evaluate", "demo"}) {
      assertTrue(top.out().contains(name), "top-level help lists " + name + ":\n" + top.out());
    }
  }

  @Test
  void everyOptionHasADescriptionAndADefault() {
    for (CommandLine sub : Main.commandLine().getSubcommands().values()) {
      CommandSpec spec = sub.getCommandSpec();
      for (OptionSpec option : spec.options()) {
        String where = spec.name() + " " + option.longestName();
        String description = String.join(" ", option.description());
        assertFalse(description.isBlank(), where + " has no description");
        boolean needsDefault = !option.required() && !option.usageHelp() && !option.versionHelp()
            && option.arity().max() > 0;
        if (needsDefault) {
          assertTrue(option.defaultValue() != null || description.contains("Default"),
              where + " has neither a default value nor a documented default: " + description);
        }
      }
    }
  }

  @Test
  void invalidOptionsFailBeforeSparkStarts() throws Exception {
    Optional<SparkSession> before = toJava(SparkSession.getDefaultSession());
    Path data = Files.createDirectories(tmp.resolve("data"));
    String out = tmp.resolve("out").toString();
    String[][] invalid = {
        {"train", "--data", data.toString(), "--out", out, "--epochs", "0"},
        {"train", "--data", data.toString(), "--out", out, "--preset", "resnet"},
        {"train", "--data", data.toString(), "--out", out, "--batch-size", "-1"},
        {"train", "--data", data.toString(), "--out", out, "--learning-rate", "2"},
        {"train", "--data", tmp.resolve("missing").toString(), "--out", out},
        {"train", "--data", data.toString(), "--out", data.toString()}, // exists, no --overwrite
        {"train", "--out", out},
        {"evaluate", "--model", tmp.resolve("missing.zip").toString(), "--data", data.toString(), "--out", out},
        {"evaluate", "--model", data.toString(), "--data", data.toString(), "--out", out, "--batch-size", "0"},
        {"convert", "--input", data.toString(), "--format", "idx", "--out", out}, // no IDX files there
        {"convert", "--input", data.toString(), "--format", "parquet", "--out", out},
        {"convert", "--input", data.toString(), "--format", "idx", "--out", out, "--split", "validation"},
        {"demo", "--data", tmp.resolve("missing").toString(), "--out", out},
        {"demo", "--epochs", "0", "--out", out},
        {"nonsense"},
    };
    for (String[] args : invalid) {
      Run r = run(args);
      assertEquals(2, r.exitCode(), String.join(" ", args) + " should be a usage error; stderr: " + r.err());
      assertFalse(r.err().isBlank(), String.join(" ", args) + " printed no error");
    }
    assertEquals(before, toJava(SparkSession.getDefaultSession()), "a SparkSession was started");
  }

  @Test
  void errorsNameTheProblem() {
    Run r = run("train", "--data", tmp.toString(), "--out", tmp.resolve("o").toString(), "--preset", "resnet");
    assertTrue(r.err().contains("resnet") && r.err().contains("cnn, micro, mlp"), r.err());
    r = run("train", "--data", tmp.toString(), "--out", tmp.toString());
    assertTrue(r.err().contains("already exists") && r.err().contains("--overwrite"), r.err());
  }

  @Test
  void versionComesFromTheBuild() {
    Run r = run("--version");
    assertEquals(0, r.exitCode());
    assertTrue(r.out().matches("sparkquant \\d+\\.\\d+\\.\\d+.*\\s*"), r.out());
  }

  private static <T> Optional<T> toJava(scala.Option<T> option) {
    return option.isDefined() ? Optional.of(option.get()) : Optional.empty();
  }
}
