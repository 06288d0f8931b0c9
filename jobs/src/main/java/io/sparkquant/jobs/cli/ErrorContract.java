package io.sparkquant.jobs.cli;

import io.sparkquant.data.InvalidDatasetException;
import io.sparkquant.ops.graph.UnsupportedModelException;
import io.sparkquant.ops.tflite.InvalidModelException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import picocli.CommandLine;

/**
 * The one error contract of every command, installed once on the root command line ({@link #install}): an error
 * prints one line on stderr, {@code sparkquant <command>: <message>}, and exits with the code of its class (the
 * constants below); the stack trace only with the global {@code --verbose}. Commands throw; they do not print
 * their errors or choose codes for them.
 *
 * <p>Spark wraps an error raised in a task ({@code SparkException: Job aborted ... Failed to execute user defined
 * function ...}); the line shows the SparkQuant error inside, which names the file, column,
 * row, layer or operator.
 */
public final class ErrorContract {

  public static final int OK = 0;
  /** Bad input: a dataset, model file or table whose content is wrong, or a file that cannot be read/written. */
  public static final int BAD_INPUT = 1;
  /** Bad command-line options (picocli's own code for them). */
  public static final int USAGE = 2;
  /** A valid model with a layer or operator SparkQuant does not support. */
  public static final int UNSUPPORTED = 3;
  /** A pipeline's quality gate failed. */
  public static final int GATE = 4;
  /** Anything unexpected: a defect or an environment failure. */
  public static final int INTERNAL = 5;

  /** The global option that adds stack traces. */
  public static final String VERBOSE = "--verbose";

  /** The footer of every command's --help. */
  public static final String[] FOOTER = {
      "",
      "Exit codes: 0 done; 1 bad input (a dataset, model file or table whose content is wrong, or a file that cannot",
      "  be read or written); 2 bad options; 3 unsupported model (layer or operator); 4 pipeline gate failed;",
      "  5 internal error. Errors are one line on stderr; add --verbose for the stack trace."};

  private ErrorContract() {}

  /** Sets the handlers and the shared help footer on {@code root} and every subcommand, recursively. */
  public static CommandLine install(CommandLine root) {
    root.setExecutionExceptionHandler(ErrorContract::handleExecution);
    root.setParameterExceptionHandler(ErrorContract::handleParameter);
    addFooter(root);
    return root;
  }

  private static void addFooter(CommandLine cl) {
    cl.getCommandSpec().usageMessage().footer(FOOTER);
    for (CommandLine sub : cl.getSubcommands().values()) {
      addFooter(sub);
    }
  }

  /** True when {@code --verbose} appears among the arguments of the root command or a subcommand. */
  public static boolean verbose(String... args) {
    for (String a : args) {
      if (VERBOSE.equals(a)) {
        return true;
      }
      if ("--".equals(a)) {
        return false;
      }
    }
    return false;
  }

  private static int handleParameter(CommandLine.ParameterException e, String[] args) {
    CommandLine cl = e.getCommandLine();
    PrintWriter err = cl.getErr();
    if (verbose(args)) {
      e.printStackTrace(err);
    }
    err.println(prefix(cl) + oneLine(e.getMessage()) + " (see " + cl.getCommandSpec().qualifiedName() + " --help)");
    err.flush();
    return USAGE;
  }

  private static int handleExecution(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
    PrintWriter err = cl.getErr();
    if (verbose(parsed.originalArgs().toArray(new String[0]))) {
      e.printStackTrace(err);
    }
    Classified c = classify(e);
    String text = c.code() == INTERNAL
        ? "internal error: " + c.error().getClass().getName() + ": " + c.error().getMessage()
            + "; rerun with --verbose for the stack trace"
        : c.error().getMessage();
    err.println(prefix(cl) + oneLine(text));
    err.flush();
    return c.code();
  }

  /**
   * Reports an Error that escaped the command (picocli's handlers see only Exceptions): an OutOfMemoryError, or an
   * Error a library raised for a full disk. Exit code {@link #INTERNAL}.
   */
  public static int handleError(Error e, CommandLine root, String... args) {
    PrintWriter err = root.getErr();
    if (verbose(args)) {
      e.printStackTrace(err);
    }
    err.println(root.getCommandName() + ": internal error: " + oneLine(e.getClass().getName() + ": "
        + e.getMessage()) + "; rerun with --verbose for the stack trace");
    err.flush();
    return INTERNAL;
  }

  /** The error to report and its exit code. */
  public record Classified(Throwable error, int code) {}

  /**
   * The first SparkQuant error in the cause chain of {@code e} (Spark's wrappers peeled off: the innermost
   * SparkQuant message, while a SparkQuant error that wraps a library's keeps its own, which names the option) and
   * its class; {@link #INTERNAL} with {@code e} itself when the chain holds none.
   */
  public static Classified classify(Throwable e) {
    int depth = 0;
    for (Throwable t = e; t != null && depth < 64; t = t.getCause(), depth++) {
      Integer code = codeOf(t);
      if (code != null) {
        return new Classified(t, code);
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return new Classified(e, INTERNAL);
  }

  /** The exit code of one exception by itself, or null when it is not one of SparkQuant's reported errors. */
  private static Integer codeOf(Throwable t) {
    if (t instanceof CommandLine.ParameterException) {
      return USAGE;
    }
    if (t instanceof UnsupportedModelException
        || t instanceof InvalidModelException ime && ime.kind() == InvalidModelException.Kind.UNSUPPORTED) {
      return UNSUPPORTED;
    }
    if (t instanceof InvalidModelException || t instanceof InvalidDatasetException) {
      return BAD_INPUT;
    }
    if (t instanceof FileNotFoundException || t instanceof AccessDeniedException) {
      return t.getMessage() == null ? null : BAD_INPUT;
    }
    if (t instanceof IllegalArgumentException || t instanceof UncheckedIOException || t instanceof IOException) {
      // Only SparkQuant's own refusals name the file and value; a library's (DL4J's "Input that is not a matrix")
      // is a SparkQuant defect, reported as internal.
      return thrownBySparkQuant(t) ? BAD_INPUT : null;
    }
    return null;
  }

  private static boolean thrownBySparkQuant(Throwable t) {
    StackTraceElement[] trace = t.getStackTrace();
    return trace.length > 0 && trace[0].getClassName().startsWith("io.sparkquant.");
  }

  private static String prefix(CommandLine cl) {
    return cl.getCommandSpec().qualifiedName() + ": ";
  }

  /** Messages may carry line breaks (file names, library text): the contract is one line. */
  static String oneLine(String message) {
    return String.valueOf(message).replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
  }
}
