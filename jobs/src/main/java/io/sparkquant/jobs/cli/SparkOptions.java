package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.spark.ProgressListener;
import io.sparkquant.jobs.spark.SparkSessions;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The Spark options every Spark subcommand shares (a picocli mixin). */
public final class SparkOptions {

  /** Seconds between two progress lines while a Spark job runs. */
  static final long PROGRESS_INTERVAL_MILLIS = 5_000;

  /** The listener added by the last session() call; replaced on the next one (one JVM may run many commands). */
  private static ProgressListener registered;

  @Spec(Spec.Target.MIXEE) CommandSpec command;

  @Option(names = "--master",
      description = "Spark master URL. Default: the spark.master set by spark-submit, else "
          + SparkSessions.DEFAULT_MASTER + ".")
  String master;

  @Option(names = "--progress", negatable = true,
      description = "Print a progress line (rows done of total, rows/s, time left) every "
          + PROGRESS_INTERVAL_MILLIS / 1000 + " s while Spark jobs run. Default: on when stdout is a terminal.")
  Boolean progress;

  public SparkSession session(String appName) {
    SparkSession spark = SparkSessions.create(appName, master);
    registerProgress(spark);
    return spark;
  }

  private void registerProgress(SparkSession spark) {
    synchronized (SparkOptions.class) {
      if (registered != null) {
        spark.sparkContext().removeSparkListener(registered);
        registered = null;
      }
      boolean on = progress != null ? progress : System.console() != null;
      if (on) {
        registered = new ProgressListener(command.commandLine().getOut(), PROGRESS_INTERVAL_MILLIS,
            System::currentTimeMillis);
        spark.sparkContext().addSparkListener(registered);
      }
    }
  }
}
