package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.eval.EvaluateJob;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.pipeline.Gate;
import io.sparkquant.jobs.pipeline.PipelineConfig;
import io.sparkquant.jobs.pipeline.PipelineJob;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkquant pipeline --config FILE}: reads and checks the config (before Spark starts), runs
 * {@link PipelineJob} and prints each step, the side-by-side table and the output paths; the exit code says
 * whether the gate passed.
 */
@Command(name = "pipeline", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs train (optional) -> calibrate -> quantize -> qat (optional) -> evaluate -> report -> gate",
        "from one JSON config (README, Operations), every output under one root. Rerunnable: a step whose",
        "outputs exist with a record matching its options and input hashes is skipped."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
        "0:every step done (or up to date) and the gate passed (or none is configured)",
        "1:a step failed",
        "2:invalid command line or config",
        "4:the gate failed: a model misses a threshold (one line names the condition and the figures)"})
public final class PipelineCommand implements Callable<Integer> {

  public static final int EXIT_GATE_FAILED = 4;

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--config", required = true, paramLabel = "FILE",
      description = "Pipeline config (JSON; local path or any Hadoop URI).")
  String config;

  @Option(names = "--root", paramLabel = "DIR",
      description = "Output root, replacing the config's \"root\" (e.g. a dated directory). Default: the config's.")
  String root;

  @Option(names = "--step", defaultValue = "gate", paramLabel = "STEP",
      description = "Run the steps up to and including this one: convert, train, calibrate, quantize, qat, evaluate,"
          + " report, gate. Default: ${DEFAULT-VALUE} (all).")
  String step;

  @Override
  public Integer call() {
    PipelineJob.Plan plan;
    PipelineJob.Step until;
    Configuration conf = new Configuration();
    try {
      until = PipelineJob.Step.fromCliName(step);
      String text;
      try {
        text = HadoopFiles.readString(conf, config);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("--config " + config + " cannot be read: " + e.getMessage(), e);
      }
      PipelineConfig parsed;
      try {
        parsed = PipelineConfig.parse(text);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(config + ": " + e.getMessage(), e);
      }
      plan = PipelineJob.plan(conf, root == null ? parsed : parsed.withRoot(root));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    PrintWriter console = spec.commandLine().getOut();
    console.printf("Pipeline %s: writing to %s%n", config, plan.root());
    console.flush();
    PipelineJob.Result result = run(console, sparkOptions, "sparkquant-pipeline", conf, plan, until);
    if (until.compareTo(PipelineJob.Step.REPORT) >= 0) {
      printResult(console, result);
    }
    return gateExitCode(console, spec.commandLine().getErr(), result);
  }

  /** Runs the plan with Spark started on first use and one console line per step. */
  static PipelineJob.Result run(PrintWriter console, SparkOptions sparkOptions, String appName, Configuration conf,
      PipelineJob.Plan plan, PipelineJob.Step until) {
    Supplier<SparkSession> spark = new Supplier<>() {
      private SparkSession session;

      @Override
      public SparkSession get() {
        if (session == null) {
          session = sparkOptions.session(appName);
        }
        return session;
      }
    };
    return PipelineJob.run(spark, conf, plan, until, new PipelineJob.Listener() {
      @Override
      public void started(PipelineJob.Step s) {
        console.printf("step %s: running%n", s.cliName());
        console.flush();
      }

      @Override
      public void skipped(PipelineJob.Step s) {
        console.printf("step %s: up to date, skipped%n", s.cliName());
        console.flush();
      }

      @Override
      public void finished(PipelineJob.Step s, long millis) {
        console.printf(Locale.ROOT, "step %s: done in %.1f s%n", s.cliName(), millis / 1000.0);
        console.flush();
      }

      @Override
      public void progress(String line) {
        console.println(line);
        console.flush();
      }
    });
  }

  /** The side-by-side table and every output path. */
  static void printResult(PrintWriter console, PipelineJob.Result result) {
    PipelineJob.Plan plan = result.plan();
    console.printf("%nOn %d test rows (.tflite on the %s runtime):%n", result.evaluatedRows(),
        plan.config().evaluate().runtime());
    console.printf("  %-16s %7s %11s %20s%n", "model", "top-1", "size bytes", "agreement with float");
    for (PipelineJob.ModelRow m : result.models()) {
      console.printf(Locale.ROOT, "  %-16s %7.4f %11d %20.4f%n", m.label(), m.accuracy(), m.sizeBytes(),
          m.agreementWithFloat());
    }
    console.printf("%nModel: %s%nCalibration table: %s%n", plan.model(), plan.table());
    plan.quantized().forEach((mode, path) -> console.printf("%s: %s%n", switch (mode) {
      case "dynamic" -> "Dynamic-range";
      case "int8" -> "Int8";
      default -> mode.substring(0, 1).toUpperCase(Locale.ROOT) + mode.substring(1);
    }, path));
    if (plan.config().qat() != null) {
      console.printf("QAT int8: %s%n", plan.qatTflite());
    }
    String eval = plan.evalDir() + "/";
    console.printf("Metrics: %s%nPredictions: %s%nReport: %s%nManifest: %s%nSummary: %s%n",
        eval + EvaluateJob.METRICS_FILE, eval + EvaluateJob.PREDICTIONS_DIR, eval + EvaluateJob.REPORT_FILE,
        eval + "manifest.json", plan.summary());
    console.flush();
  }

  /**
   * 0 when the gate passed or none ran; else {@link #EXIT_GATE_FAILED} and one line on {@code err} with every failed
   * condition and its figures.
   */
  static int gateExitCode(PrintWriter console, PrintWriter err, PipelineJob.Result result) {
    if (result.gateFailures().isEmpty()) {
      if (result.plan().config().gate() != null && result.ran().contains(PipelineJob.Step.GATE)) {
        console.println("Gate passed");
      }
      console.flush();
      return 0;
    }
    err.println("Gate failed: " + String.join("; ", result.gateFailures().stream().map(Gate.Failure::line)
        .toList()));
    err.flush();
    return EXIT_GATE_FAILED;
  }
}
