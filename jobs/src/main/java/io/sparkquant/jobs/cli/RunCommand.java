package io.sparkquant.jobs.cli;

import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.interp.NpyFile;
import io.sparkquant.ops.interp.TensorValue;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteRuntimeException;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/**
 * {@code sparkquant run F.tflite --input X.npy ... --output-dir DIR}: runs a model on NumPy inputs with
 * SparkQuant's Java interpreter or the TFLite 2.6.2 runtime and writes one .npy per model output.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Runs a .tflite model on NumPy .npy inputs (one per model input, in model order; the leading dimension",
        "is the batch) and writes one .npy per model output, named after the output tensor, in its dtype.",
        "Supported .npy dtypes: '<f4', '|i1', '<i2', '<i4' (C order). Runs locally, without Spark."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
        "0:outputs written",
        "1:a file cannot be read, is not a valid model/.npy, or an input has the wrong dtype or shape",
        "2:invalid command-line arguments",
        "3:the model is valid but the chosen runtime cannot run it (unsupported operator or types)"})
public final class RunCommand implements Callable<Integer> {

  static final int EXIT_OK = 0;
  static final int EXIT_BAD_INPUT = 1;
  static final int EXIT_UNSUPPORTED = 3;

  /** Which engine runs the model. */
  enum Runtime { java, tflite }

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
  Runtime runtime;

  @Option(names = "--threads", defaultValue = "1",
      description = "Threads: TFLite's intra-op threads, or for java the batch split across this many "
          + "threads sharing one interpreter. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Option(names = "--overwrite", defaultValue = "false",
      description = "Replace an existing output directory. Default: ${DEFAULT-VALUE}.")
  boolean overwrite;

  /** The resolved options, recorded in the manifest. */
  record Options(String model, List<String> inputs, String outputDir, String runtime, int threads) {}

  /** A failure with its exit code and message (the CLI prints it; the cause is kept for the log). */
  static final class RunFailure extends Exception {
    final int exitCode;

    RunFailure(int exitCode, String message, Throwable cause) {
      super(message, cause);
      this.exitCode = exitCode;
    }
  }

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    if (threads < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 1, got " + threads);
    }
    try {
      Map<String, TensorValue> written = run();
      for (Map.Entry<String, TensorValue> e : written.entrySet()) {
        out.printf("%s: %s %s%n", e.getKey(), e.getValue().type(), Arrays.toString(e.getValue().shape()));
      }
      out.flush();
      return EXIT_OK;
    } catch (RunFailure f) {
      err.println("sparkquant run: " + f.getMessage());
      err.flush();
      return f.exitCode;
    }
  }

  /** Runs and writes the outputs; returns them by file name. */
  Map<String, TensorValue> run() throws RunFailure {
    Configuration hadoopConf = new Configuration();
    try {
      OutputDir.checkWritable(hadoopConf, outputDir, overwrite); // fail before any work
    } catch (IllegalArgumentException | UncheckedIOException e) {
      throw new RunFailure(EXIT_BAD_INPUT, e.getMessage(), e);
    }
    byte[] bytes;
    try {
      bytes = HadoopFiles.readAllBytes(hadoopConf, model);
    } catch (UncheckedIOException e) {
      throw new RunFailure(EXIT_BAD_INPUT, "cannot read model " + model + ": " + e.getCause(), e);
    }
    TfliteModel m;
    try {
      m = TfliteReader.read(bytes);
    } catch (InvalidModelException e) {
      throw new RunFailure(EXIT_BAD_INPUT, model + " is not a valid TFLite model: " + e.getMessage(), e);
    }
    TensorValue[] in = readInputs(hadoopConf, m);
    long start = System.nanoTime();
    TensorValue[] outs = runtime == Runtime.java ? runJava(m, in) : runTflite(m, bytes, in);
    long runMillis = (System.nanoTime() - start) / 1_000_000;
    Map<String, TensorValue> files = new LinkedHashMap<>();
    Set<String> used = new HashSet<>();
    for (int o = 0; o < outs.length; o++) {
      String name = fileName(m.tensor(m.outputs()[o]).name(), o, used);
      files.put(name, outs[o]);
    }
    Options options = new Options(model, inputs, outputDir, runtime.name(), threads);
    try (OutputDir dir = OutputDir.create(hadoopConf, outputDir, overwrite)) {
      for (Map.Entry<String, TensorValue> e : files.entrySet()) {
        dir.writeBytes(e.getKey(), NpyFile.toBytes(e.getValue()));
      }
      Manifest manifest = new Manifest("run", options).duration("run", runMillis);
      for (int k = 0; k < in.length; k++) {
        manifest.input("input " + k, inputs.get(k), in[k].shape().length == 0 ? 1 : in[k].shape()[0]);
      }
      manifest.put("outputs", files.keySet());
      manifest.writeTo(dir);
      dir.commit();
    } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
      throw new RunFailure(EXIT_BAD_INPUT, "cannot write " + outputDir + ": " + e.getMessage(), e);
    }
    return files;
  }

  private TensorValue[] readInputs(Configuration hadoopConf, TfliteModel m) throws RunFailure {
    int expected = m.inputs().length;
    if (inputs.size() != expected) {
      List<String> names = new ArrayList<>();
      for (int i : m.inputs()) {
        TfliteTensor t = m.tensor(i);
        names.add("'" + t.name() + "' " + t.type() + " " + Arrays.toString(t.shape()));
      }
      throw new RunFailure(EXIT_BAD_INPUT, "the model has " + expected + " inputs " + names + ", got "
          + inputs.size() + " --input files", null);
    }
    TensorValue[] in = new TensorValue[expected];
    for (int k = 0; k < expected; k++) {
      String file = inputs.get(k);
      TfliteTensor t = m.tensor(m.inputs()[k]);
      TensorValue x;
      try {
        x = NpyFile.fromBytes(HadoopFiles.readAllBytes(hadoopConf, file), file);
      } catch (IOException | UncheckedIOException e) {
        throw new RunFailure(EXIT_BAD_INPUT, e.getMessage(), e);
      }
      int[] want = t.shape();
      int[] got = x.shape();
      if (x.type() != t.type()) {
        throw new RunFailure(EXIT_BAD_INPUT, file + ": model input " + k + " '" + t.name() + "' is " + t.type()
            + " (.npy dtype '" + safeDescr(t) + "'), the file holds " + x.type(), null);
      }
      boolean ok = got.length == want.length && got.length > 0 && got[0] > 0;
      for (int d = 1; ok && d < got.length; d++) {
        ok = got[d] == want[d];
      }
      if (!ok) {
        StringBuilder s = new StringBuilder("(batch");
        for (int d = 1; d < want.length; d++) {
          s.append(", ").append(want[d]);
        }
        throw new RunFailure(EXIT_BAD_INPUT, file + ": model input " + k + " '" + t.name() + "' needs shape "
            + s + ") with batch >= 1 (declared " + Arrays.toString(want) + "), the file has "
            + Arrays.toString(got), null);
      }
      in[k] = x;
    }
    return in;
  }

  private static String safeDescr(TfliteTensor t) {
    try {
      return NpyFile.descr(t.type());
    } catch (IllegalArgumentException e) {
      return "none";
    }
  }

  private TensorValue[] runJava(TfliteModel m, TensorValue[] in) throws RunFailure {
    Interpreter interpreter;
    try {
      interpreter = new Interpreter(m);
    } catch (IllegalArgumentException e) {
      throw new RunFailure(EXIT_UNSUPPORTED, "the Java interpreter cannot run " + model + ": " + e.getMessage(), e);
    }
    int batch = in[0].shape()[0];
    boolean split = threads > 1 && in.length == 1 && batch >= 2;
    if (!split) {
      return interpreter.run(in);
    }
    // one shared interpreter (thread-safe), the batch split into contiguous chunks
    int chunks = Math.min(threads, batch);
    ExecutorService pool = Executors.newFixedThreadPool(chunks);
    try {
      List<Future<TensorValue[]>> parts = new ArrayList<>();
      int start = 0;
      for (int c = 0; c < chunks; c++) {
        int end = start + (batch - start) / (chunks - c);
        TensorValue chunk = slice(in[0], start, end);
        parts.add(pool.submit(() -> interpreter.run(chunk)));
        start = end;
      }
      List<TensorValue[]> results = new ArrayList<>();
      for (Future<TensorValue[]> f : parts) {
        results.add(f.get());
      }
      TensorValue[] outs = new TensorValue[results.get(0).length];
      for (int o = 0; o < outs.length; o++) {
        List<TensorValue> pieces = new ArrayList<>();
        for (TensorValue[] r : results) {
          pieces.add(r[o]);
        }
        outs[o] = concat(pieces);
      }
      return outs;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RunFailure(EXIT_UNSUPPORTED, "interrupted", e);
    } catch (ExecutionException e) {
      throw new RunFailure(EXIT_UNSUPPORTED, "the Java interpreter failed: " + e.getCause().getMessage(), e);
    } finally {
      pool.shutdownNow();
    }
  }

  private static TensorValue slice(TensorValue t, int from, int to) {
    int[] shape = t.shape();
    int per = t.elementCount() / shape[0];
    Object data = java.lang.reflect.Array.newInstance(t.data().getClass().getComponentType(), (to - from) * per);
    System.arraycopy(t.data(), from * per, data, 0, (to - from) * per);
    shape[0] = to - from;
    return new TensorValue(t.type(), shape, data);
  }

  private static TensorValue concat(List<TensorValue> pieces) {
    int rows = 0;
    int total = 0;
    for (TensorValue p : pieces) {
      rows += p.shape()[0];
      total += p.elementCount();
    }
    Object data = java.lang.reflect.Array.newInstance(pieces.get(0).data().getClass().getComponentType(), total);
    int pos = 0;
    for (TensorValue p : pieces) {
      System.arraycopy(p.data(), 0, data, pos, p.elementCount());
      pos += p.elementCount();
    }
    int[] shape = pieces.get(0).shape();
    shape[0] = rows;
    return new TensorValue(pieces.get(0).type(), shape, data);
  }

  private TensorValue[] runTflite(TfliteModel m, byte[] bytes, TensorValue[] in) throws RunFailure {
    try (TfliteRuntime rt = TfliteRuntime.create(bytes, threads)) {
      int batch = in[0].shape()[0];
      if (rt.inputShape(0).length > 0 && rt.inputShape(0)[0] != batch) {
        rt.resizeBatch(batch);
      }
      Object[] flat = new Object[in.length];
      for (int k = 0; k < in.length; k++) {
        flat[k] = in[k].data();
      }
      Object[] outs = rt.run(flat);
      TensorValue[] result = new TensorValue[outs.length];
      for (int o = 0; o < outs.length; o++) {
        result[o] = new TensorValue(rt.outputType(o), rt.outputShape(o), outs[o]);
      }
      return result;
    } catch (TfliteRuntimeException | IllegalArgumentException e) {
      throw new RunFailure(EXIT_UNSUPPORTED, "TFLite 2.6.2 cannot run " + model + ": " + e.getMessage(), e);
    }
  }

  /** The tensor name made file-safe, or output_&lt;i&gt; when empty or already used. */
  static String fileName(String tensorName, int index, Set<String> used) {
    String base = tensorName == null ? "" : tensorName.replaceAll("[^A-Za-z0-9._-]", "_");
    String name = base.isEmpty() || base.startsWith(".") ? "output_" + index : base;
    if (!used.add(name + ".npy")) {
      name = name + "_" + index;
      used.add(name + ".npy");
    }
    return name + ".npy";
  }
}
