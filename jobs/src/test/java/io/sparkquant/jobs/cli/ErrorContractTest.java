package io.sparkquant.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.InvalidDatasetException;
import io.sparkquant.jobs.Main;
import io.sparkquant.ops.graph.UnsupportedModelException;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The exit-code classes and the Spark unwrapping of {@link ErrorContract}, without running a job. */
class ErrorContractTest {

  @Test
  void sparkWrappersArePeeledToTheSparkQuantError() {
    InvalidDatasetException row = InvalidDatasetException.atRow("f.parquet", "label", "row id 7", "a class", "12");
    Exception task = new SparkException("[FAILED_EXECUTE_UDF] Failed to execute user defined function", row);
    Exception job = new SparkException("Job aborted due to stage failure: ...\n\tat x.y(Z.java:1)", task);
    ErrorContract.Classified c = ErrorContract.classify(new RuntimeException(job));
    assertSame(row, c.error());
    assertEquals(ErrorContract.BAD_INPUT, c.code());
  }

  @Test
  void classes() {
    assertEquals(ErrorContract.UNSUPPORTED, ErrorContract.classify(new UnsupportedModelException("layer 3")).code());
    assertEquals(ErrorContract.BAD_INPUT, ErrorContract.classify(new IllegalArgumentException("mine")).code(),
        "thrown here, in io.sparkquant");
    // A library's IllegalArgumentException (DL4J's "Input that is not a matrix") is a SparkQuant defect.
    IllegalArgumentException library = new IllegalArgumentException("Input that is not a matrix");
    library.setStackTrace(new StackTraceElement[] {
        new StackTraceElement("org.deeplearning4j.nn.layers.BaseLayer", "preOutput", "BaseLayer.java", 1)});
    assertEquals(ErrorContract.INTERNAL, ErrorContract.classify(library).code());
    assertEquals(ErrorContract.INTERNAL, ErrorContract.classify(new NullPointerException()).code());
  }

  @Test
  void internalErrorIsOneLineAskingForVerbose() {
    StringWriter err = new StringWriter();
    CommandLine cli = ErrorContract.install(new CommandLine(new Failing()));
    cli.setErr(new PrintWriter(err, true));
    assertEquals(ErrorContract.INTERNAL, cli.execute());
    assertEquals(1, err.toString().strip().lines().count(), err.toString());
    assertTrue(err.toString().contains("internal error: java.lang.IllegalStateException: broken second line; rerun with "
        + "--verbose"), err.toString());
  }

  @Test
  void everyHelpShowsTheExitCodes() {
    for (CommandLine sub : Main.commandLine().getSubcommands().values()) {
      String help = sub.getUsageMessage();
      assertTrue(help.contains("Exit codes: 0 done; 1 bad input") && help.contains("--verbose"),
          sub.getCommandName() + ":\n" + help);
    }
  }

  @CommandLine.Command(name = "failing")
  static final class Failing implements Runnable {
    @Override
    public void run() {
      throw new IllegalStateException("broken\nsecond line");
    }
  }
}
