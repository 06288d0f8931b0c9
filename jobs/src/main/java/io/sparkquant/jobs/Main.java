package io.sparkquant.jobs;

import io.sparkquant.jobs.bench.BenchCalibrateCommand;
import io.sparkquant.jobs.bench.BenchCommand;
import io.sparkquant.jobs.bench.BenchInterpreterCommand;
import io.sparkquant.jobs.bench.BenchQatCommand;
import io.sparkquant.jobs.cli.CalibrateCommand;
import io.sparkquant.jobs.cli.ClusterCheckCommand;
import io.sparkquant.jobs.cli.ConvertCommand;
import io.sparkquant.jobs.cli.DemoCommand;
import io.sparkquant.jobs.cli.ErrorContract;
import io.sparkquant.jobs.cli.EvaluateCommand;
import io.sparkquant.jobs.cli.InspectCommand;
import io.sparkquant.jobs.cli.LayerReportCommand;
import io.sparkquant.jobs.cli.PipelineCommand;
import io.sparkquant.jobs.cli.QuantizeCommand;
import io.sparkquant.jobs.cli.RunCommand;
import io.sparkquant.jobs.cli.QatCommand;
import io.sparkquant.jobs.cli.TrainCommand;
import io.sparkquant.jobs.output.ProjectVersion;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * The single command-line entry point: {@code sparkquant <subcommand> ...} locally, or
 * {@code spark-submit --class io.sparkquant.jobs.Main app.jar <subcommand> ...} on a cluster.
 * Each subcommand is its own picocli command class; register it in {@code subcommands} below.
 */
@Command(
    name = "sparkquant",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Calibrate, quantize, fine-tune and evaluate int8 TFLite models on Apache Spark.",
    subcommands = {
        CommandLine.HelpCommand.class,
        InspectCommand.class,
        RunCommand.class,
        CalibrateCommand.class,
        QuantizeCommand.class,
        ConvertCommand.class,
        TrainCommand.class,
        QatCommand.class,
        EvaluateCommand.class,
        LayerReportCommand.class,
        io.sparkquant.jobs.cli.PredictCommand.class,
        DemoCommand.class,
        PipelineCommand.class,
        BenchCommand.class,
        BenchCalibrateCommand.class,
        BenchInterpreterCommand.class,
        BenchQatCommand.class,
        ClusterCheckCommand.class,
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(names = ErrorContract.VERBOSE, scope = CommandLine.ScopeType.INHERIT,
      description = "On an error, print its stack trace (and Spark's task failures) besides the one-line message. "
          + "Default: false.")
  boolean verbose;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand");
  }

  public static void main(String[] args) {
    // The CLI's log4j2 configuration reads this when the first logger starts, before picocli parses: without it,
    // logged exceptions and Spark's task failures print no stack trace.
    boolean verbose = ErrorContract.verbose(args);
    System.setProperty("sparkquant.verbose", Boolean.toString(verbose));
    System.setProperty("sparkquant.tasklog", verbose ? "warn" : "error");
    System.exit(execute(args));
  }

  /** Runs the CLI and returns the exit code; tests call this instead of {@link #main}. */
  public static int execute(String... args) {
    CommandLine cli = commandLine();
    try {
      return cli.execute(args);
    } catch (Error e) {
      return ErrorContract.handleError(e, cli, args);
    }
  }

  /** The configured picocli command line (tests inspect and run it). */
  public static CommandLine commandLine() {
    return ErrorContract.install(new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(false));
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"sparkquant " + ProjectVersion.get()};
    }
  }
}
