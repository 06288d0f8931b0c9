package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.spark.SparkSessions;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

/** The Spark options every Spark subcommand shares (a picocli mixin). */
public final class SparkOptions {

  @Option(names = "--master",
      description = "Spark master URL. Default: the spark.master set by spark-submit, else "
          + SparkSessions.DEFAULT_MASTER + ".")
  String master;

  public SparkSession session(String appName) {
    return SparkSessions.create(appName, master);
  }
}
