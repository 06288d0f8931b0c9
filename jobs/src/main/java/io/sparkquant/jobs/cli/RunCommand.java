package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.run.RunJob.RunFailure;
import io.sparkquant.jobs.run.RunJob;
import io.sparkquant.ops.interp.TensorValue;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/**
 * {@code sparkquant run F.tflite --input X.npy ... --output-dir DIR}: parses and checks the options, calls
 * {@link RunJob} and prints each output's name, type and shape, or the failure with its exit code.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Runs a .tflite model on NumPy .npy inputs (one per model input, in model order; the leading dimension",
        "is the batch) and writes one .npy per model output, in its dtype, named after the output tensor: the",
        "name itself when it is a safe file name of at most 100 characters, else <index>_<sanitized name, at most",
        "64 characters>_<8 hex digits of its SHA-256>.npy; manifest.json maps tensor names to files (outputTensors).",
        "Supported .npy dtypes: '<f4', '|i1', '<i2', '<i4' (C order). Runs locally, without Spark."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
        "0:outputs written",
        "1:a file cannot be read, is not a valid model/.npy (a damaged model: the verifier's one-line message names",
        "  the tensor or operator), or an input has the wrong dtype or shape or holds NaN",
        "2:invalid command-line arguments",
        "3:the model is valid but the chosen runtime cannot run it (unsupported operator or types)"})
public final class RunCommand implements Callable<Integer> {

  static final int EXIT_OK = 0;
  static final int EXIT_BAD_INPUT = 1;
  static final int EXIT_UNSUPPORTED = 3;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "F.tflite",
      description = "The model to run (a local path or any Hadoop URI, e.g. hdfs://...).")
  String model;

  @Option(names = "--input", required = true, paramLabel = "X.npy",
      description = "An input .npy file; repeat once per model input, in model input order.")
  List<String> inputs;

  @Option(names = "--output-dir", required = true, paramLabel = "DIR",
      description = "Directory for the output .npy files and manifest.json (written atomically).")
  String outputDir;

  @Option(names = "--runtime", defaultValue = "java",
      description = "java (SparkQuant's interpreter) or tflite (the TFLite 2.6.2 native runtime). "
          + "Default: ${DEFAULT-VALUE}.")
  RunJob.Runtime runtime;

  @Option(names = "--threads", defaultValue = "1",
      description = "Threads: TFLite's intra-op threads, or for java the batch split across this many "
          + "threads sharing one interpreter. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Option(names = "--overwrite", defaultValue = "false",
      description = "Replace an existing output directory. Default: ${DEFAULT-VALUE}.")
  boolean overwrite;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    if (threads < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 1, got " + threads);
    }
    try {
      Map<String, TensorValue> written = RunJob.run(
          new RunJob.Options(model, inputs, outputDir, runtime, threads, overwrite));
      for (Map.Entry<String, TensorValue> e : written.entrySet()) {
        out.printf("%s: %s %s%n", e.getKey(), e.getValue().type(), Arrays.toString(e.getValue().shape()));
      }
      out.flush();
      return EXIT_OK;
    } catch (RunFailure f) {
      err.println("sparkquant run: " + f.getMessage());
      err.flush();
      return f.kind() == RunFailure.Kind.UNSUPPORTED ? EXIT_UNSUPPORTED : EXIT_BAD_INPUT;
    }
  }
}
