package io.sparkquant.jobs.inspect;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.ops.interp.BuiltinOpResolver;
import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteModelSummary;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteRuntimeException;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;

/**
 * What is inside a .tflite file (operators, tensors, bytes by kind, metadata, SparkQuant's verification) and
 * whether the TFLite 2.6.2 runtime loads it. Runs locally, without Spark.
 */
public final class InspectJob {

  private InspectJob() {}

  /** The inspection: {@code inspect --json} prints it as is, the text output shows the same. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Report(String file, String error, TfliteModelSummary summary, Boolean tflite262Loads,
      String tflite262Message) {}

  private static String invalid(String file, InvalidModelException e) {
    return file + " is not a valid TFLite model: " + e.getMessage();
  }

  /** Reads and checks {@code file} (a local path or any Hadoop URI); a read or parse failure is the report's error. */
  public static Report inspect(String file) {
    byte[] bytes;
    try {
      bytes = HadoopFiles.readAllBytes(new Configuration(), file);
    } catch (UncheckedIOException e) {
      return new Report(file, "cannot read " + file + ": " + e.getCause(), null, null, null);
    }
    TfliteModel model;
    try {
      model = TfliteReader.read(bytes);
    } catch (InvalidModelException e) {
      return new Report(file, invalid(file, e), null, null, null);
    }
    TfliteModelSummary summary = TfliteModelSummary.of(model, bytes.length, BuiltinOpResolver.INSTANCE);
    // Only models the verifier finds valid go to the native runtime: a damaged shape or stride can crash the JVM
    // there. A valid model outside SparkQuant's op table (UNSUPPORTED) is still tried.
    try {
      new Interpreter(model);
    } catch (InvalidModelException e) {
      if (e.kind() == InvalidModelException.Kind.INVALID) {
        return new Report(file, invalid(file, e), summary, false, "not tried: the model is invalid");
      }
    }
    try (TfliteRuntime runtime = TfliteRuntime.create(bytes, 1)) {
      return new Report(file, null, summary, true, "loads and allocates (" + runtime.inputCount()
          + " inputs, " + runtime.outputCount() + " outputs)");
    } catch (TfliteRuntimeException e) {
      return new Report(file, null, summary, false, e.getMessage());
    }
  }
}
