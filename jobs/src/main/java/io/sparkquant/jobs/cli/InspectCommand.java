package io.sparkquant.jobs.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.jobs.inspect.InspectJob.Report;
import io.sparkquant.jobs.inspect.InspectJob;
import io.sparkquant.ops.tflite.TfliteModelSummary.MetadataInfo;
import io.sparkquant.ops.tflite.TfliteModelSummary.OperatorInfo;
import io.sparkquant.ops.tflite.TfliteModelSummary.TensorInfo;
import io.sparkquant.ops.tflite.TfliteModelSummary;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/**
 * {@code sparkquant inspect F.tflite [--json]}: prints {@link InspectJob}'s report on a .tflite file, as text or
 * JSON, and exits with a code that says whether the model is valid and TFLite 2.6.2 loads it.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
        "Shows a .tflite file's operators (with versions), tensors (type, shape, quantization), bytes per kind,",
        "metadata (min runtime version, provenance), SparkQuant's verification and whether TFLite 2.6.2 loads it.",
        "Runs locally, without Spark."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
        "0:the model is valid and TFLite 2.6.2 loads it",
        "1:the file cannot be read or is not a valid TFLite model (damaged: the verifier's one-line message names",
        "  the tensor or operator; the text report still shows what could be read)",
        "2:invalid command-line arguments",
        "3:the model is valid, but SparkQuant does not run it (unsupported op, version or types) or TFLite 2.6.2",
        "  refuses it"})
public final class InspectCommand implements Callable<Integer> {

  static final int EXIT_OK = 0;
  static final int EXIT_INVALID_FILE = 1;
  static final int EXIT_PROBLEMS = 3;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "F.tflite",
      description = "The model file to inspect (a local path or any Hadoop URI, e.g. hdfs://...).")
  String model;

  @Option(names = "--json", description = "Print one JSON document instead of text (default: ${DEFAULT-VALUE}).",
      defaultValue = "false")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Report report = InspectJob.inspect(model);
    if (json) {
      out.println(toJson(report));
    } else if (report.summary() != null) {
      printText(out, report);
    }
    out.flush();
    if (report.error() != null) {
      err.println("sparkquant inspect: " + report.error());
      err.flush();
      return EXIT_INVALID_FILE;
    }
    boolean loads = Boolean.TRUE.equals(report.tflite262Loads());
    return report.summary().problems().isEmpty() && loads ? EXIT_OK : EXIT_PROBLEMS;
  }

  private static String toJson(Report report) {
    try {
      return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(report);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot serialize the inspect report", e);
    }
  }

  private static void printText(PrintWriter out, Report report) {
    TfliteModelSummary s = report.summary();
    out.printf("File: %s (%,d bytes)%n", report.file(), s.fileBytes());
    out.printf("Description: %s%n", s.description() == null ? "(none)" : s.description());
    out.printf("Min runtime version: %s%n", s.minRuntimeVersion() == null ? "(not recorded)" : s.minRuntimeVersion());
    out.printf("%nOperators (%d):%n", s.operators().size());
    for (OperatorInfo op : s.operators()) {
      out.printf("  #%-3d %-18s v%d%s  in %s  out %s%s%n", op.index(), op.name(), op.version(),
          op.maxVersionTflite262() > 0 ? " (TFLite 2.6.2 max v" + op.maxVersionTflite262() + ")" : "",
          Arrays.toString(op.inputs()), Arrays.toString(op.outputs()),
          op.options() == null ? "" : "  " + op.options());
    }
    out.printf("%nTensors (%d):%n", s.tensors().size());
    for (TensorInfo t : s.tensors()) {
      out.printf("  #%-3d %-24s %-7s %-16s %s%s%n", t.index(), t.name() == null ? "(unnamed)" : t.name(), t.type(),
          Arrays.toString(t.shape()), t.constant() ? String.format("const %,d B", t.dataBytes()) : "activation",
          quantizationText(t));
    }
    out.printf("%nBytes by kind:%n");
    for (Map.Entry<String, Long> e : s.bytesByKind().entrySet()) {
      out.printf("  %-18s %,12d%n", e.getKey(), e.getValue());
    }
    out.printf("%nMetadata (%d):%n", s.metadata().size());
    for (MetadataInfo m : s.metadata()) {
      out.printf("  %-24s %,d B%s%n", m.name(), m.bytes(), m.text() == null ? " (binary)" : ": " + abbreviate(m.text()));
    }
    out.printf("%nVerification: %s%n", s.problems().isEmpty() ? "OK" : s.problems().size() + " problem(s)");
    for (String p : s.problems()) {
      out.printf("  - %s%n", p);
    }
    out.printf("TFLite 2.6.2: %s%n", Boolean.TRUE.equals(report.tflite262Loads())
        ? report.tflite262Message() : "REFUSED: " + report.tflite262Message());
  }

  private static String quantizationText(TensorInfo t) {
    return switch (t.quantization()) {
      case "per-tensor" -> String.format("  per-tensor scale=%s zero_point=%d", t.scale(), t.zeroPoint());
      case "per-channel" -> String.format("  per-channel (dim %d): %d scales in [%s, %s], zero points %d..%d",
          t.quantizedDimension(), t.channels(), t.scaleMin(), t.scaleMax(), t.zeroPointMin(), t.zeroPointMax());
      default -> "";
    };
  }

  private static String abbreviate(String text) {
    String oneLine = text.replace('\n', ' ');
    return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 197) + "...";
  }
}
