package io.sparkquant.jobs.run;

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
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;

/**
 * The run stage: runs a .tflite model on NumPy inputs (one per model input, the leading dimension is the batch)
 * with SparkQuant's Java interpreter or the TFLite 2.6.2 runtime, and writes one .npy per model output, named
 * after its tensor ({@link #fileName}: made safe and short where needed), plus manifest.json (with the tensor to
 * file mapping), atomically. Runs locally, without Spark.
 */
public final class RunJob {

  /** Which engine runs the model. */
  public enum Runtime { java, tflite }

  /**
   * What to run.
   *
   * @param model the .tflite file (a local path or any Hadoop URI)
   * @param inputs one .npy file per model input, in model input order
   * @param outputDir the directory for the outputs and manifest.json
   * @param threads TFLite's intra-op threads, or for java the batch split across this many threads
   * @param overwrite whether to replace an existing output directory
   */
  public record Options(String model, List<String> inputs, String outputDir, Runtime runtime, int threads,
      boolean overwrite) {}

  /** The options as the manifest records them (unchanged from before the job had its own class). */
  record ManifestOptions(String model, List<String> inputs, String outputDir, String runtime, int threads) {}

  /** A failure with its kind and message (the caller reports it; the cause is kept for the log). */
  public static final class RunFailure extends Exception {

    /** Bad input: unreadable or invalid files, wrong dtype or shape; unsupported: the runtime cannot run it. */
    public enum Kind { BAD_INPUT, UNSUPPORTED }

    private final Kind kind;

    private RunFailure(Kind kind, String message, Throwable cause) {
      super(message, cause);
      this.kind = kind;
    }

    static RunFailure badInput(String message, Throwable cause) {
      return new RunFailure(Kind.BAD_INPUT, message, cause);
    }

    static RunFailure unsupported(String message, Throwable cause) {
      return new RunFailure(Kind.UNSUPPORTED, message, cause);
    }

    public Kind kind() {
      return kind;
    }
  }

  private final String model;
  private final List<String> inputs;
  private final String outputDir;
  private final Runtime runtime;
  private final int threads;
  private final boolean overwrite;

  private RunJob(Options o) {
    if (o.threads() < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + o.threads());
    }
    this.model = o.model();
    this.inputs = List.copyOf(o.inputs());
    this.outputDir = o.outputDir();
    this.runtime = o.runtime();
    this.threads = o.threads();
    this.overwrite = o.overwrite();
  }

  /** Runs the model and writes the outputs; returns them by file name, in model output order. */
  public static Map<String, TensorValue> run(Options options) throws RunFailure {
    return new RunJob(options).execute();
  }

  private Map<String, TensorValue> execute() throws RunFailure {
    Configuration hadoopConf = new Configuration();
    try {
      OutputDir.checkWritable(hadoopConf, outputDir, overwrite); // fail before any work
    } catch (IllegalArgumentException | UncheckedIOException e) {
      throw RunFailure.badInput(e.getMessage(), e);
    }
    byte[] bytes;
    try {
      bytes = HadoopFiles.readAllBytes(hadoopConf, model);
    } catch (UncheckedIOException e) {
      throw RunFailure.badInput("cannot read model " + model + ": " + e.getCause(), e);
    }
    TfliteModel m;
    Interpreter interpreter = null;
    try {
      m = TfliteReader.read(bytes);
      if (runtime == Runtime.java) {
        interpreter = new Interpreter(m); // the verifier: shapes, operands, quantization, before any input is read
      }
    } catch (InvalidModelException e) {
      throw modelFailure(e);
    }
    TensorValue[] in = readInputs(hadoopConf, m);
    long start = System.nanoTime();
    TensorValue[] outs = runtime == Runtime.java ? runJava(interpreter, in) : runTflite(m, bytes, in);
    long runMillis = (System.nanoTime() - start) / 1_000_000;
    Map<String, TensorValue> files = new LinkedHashMap<>();
    List<Map<String, String>> outputFiles = new ArrayList<>();
    Set<String> used = new HashSet<>();
    for (int o = 0; o < outs.length; o++) {
      String tensorName = m.tensor(m.outputs()[o]).name();
      String name = fileName(tensorName, o, used);
      files.put(name, outs[o]);
      Map<String, String> entry = new LinkedHashMap<>();
      entry.put("tensor", tensorName == null ? "" : tensorName);
      entry.put("file", name);
      outputFiles.add(entry);
    }
    ManifestOptions options = new ManifestOptions(model, inputs, outputDir, runtime.name(), threads);
    try (OutputDir dir = OutputDir.create(hadoopConf, outputDir, overwrite)) {
      for (Map.Entry<String, TensorValue> e : files.entrySet()) {
        dir.writeBytes(e.getKey(), NpyFile.toBytes(e.getValue()));
      }
      Manifest manifest = new Manifest("run", options).duration("run", runMillis);
      for (int k = 0; k < in.length; k++) {
        manifest.input("input " + k, inputs.get(k), in[k].shape().length == 0 ? 1 : in[k].shape()[0]);
      }
      manifest.put("outputs", files.keySet());
      manifest.put("outputTensors", outputFiles); // tensor name -> file, in model output order
      manifest.writeTo(dir);
      dir.commit();
    } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
      throw RunFailure.badInput("cannot write " + outputDir + ": " + e.getMessage(), e);
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
      throw RunFailure.badInput("the model has " + expected + " inputs " + names + ", got "
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
        throw RunFailure.badInput(e.getMessage(), e);
      }
      int[] want = t.shape();
      int[] got = x.shape();
      if (x.type() != t.type()) {
        throw RunFailure.badInput(file + ": model input " + k + " '" + t.name() + "' is " + t.type()
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
        throw RunFailure.badInput(file + ": model input " + k + " '" + t.name() + "' needs shape "
            + s + ") with batch >= 1 (declared " + Arrays.toString(want) + "), the file has "
            + Arrays.toString(got), null);
      }
      requireNoNaN(file, x);
      in[k] = x;
    }
    return in;
  }

  /** NaN has no quantized value and no meaning as a pixel or feature: refuse it, naming where the first one is. */
  private static void requireNoNaN(String file, TensorValue x) throws RunFailure {
    if (x.type() != io.sparkquant.ops.tflite.TensorType.FLOAT32) {
      return;
    }
    float[] v = x.floats();
    int perRow = v.length == 0 ? 1 : v.length / x.shape()[0];
    for (int i = 0; i < v.length; i++) {
      if (Float.isNaN(v[i])) {
        throw RunFailure.badInput(file + ": element " + i + " (row " + i / perRow + ", index " + i % perRow
            + " in the row) is NaN; inputs must be numbers", null);
      }
    }
  }

  private static String safeDescr(TfliteTensor t) {
    try {
      return NpyFile.descr(t.type());
    } catch (IllegalArgumentException e) {
      return "none";
    }
  }

  /** A damaged model is bad input (exit 1); a valid one outside the Java interpreter's op table is unsupported. */
  private RunFailure modelFailure(InvalidModelException e) {
    return e.kind() == InvalidModelException.Kind.UNSUPPORTED
        ? RunFailure.unsupported("the Java interpreter cannot run " + model + ": " + e.getMessage(), e)
        : RunFailure.badInput(model + " is not a valid TFLite model: " + e.getMessage(), e);
  }

  private TensorValue[] runJava(Interpreter interpreter, TensorValue[] in) throws RunFailure {
    int batch = in[0].shape()[0];
    boolean split = threads > 1 && in.length == 1 && batch >= 2;
    if (!split) {
      try {
        return interpreter.run(in);
      } catch (InvalidModelException e) { // a shape that fits the declared batch but not this one
        throw modelFailure(e);
      }
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
      throw RunFailure.unsupported("interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof InvalidModelException invalid) {
        throw modelFailure(invalid);
      }
      throw RunFailure.unsupported("the Java interpreter failed: " + e.getCause().getMessage(), e);
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
      throw RunFailure.unsupported("TFLite 2.6.2 cannot run " + model + ": " + e.getMessage(), e);
    }
  }

  /** A file name this long or shorter is kept as is when the tensor name needs no change. */
  static final int MAX_PLAIN_NAME_CHARS = 100;
  /** The readable part of a rewritten name; with the index, the hash and ".npy" well under 255 bytes. */
  static final int MAX_STEM_CHARS = 64;

  /**
   * The output file for tensor {@code index}: the tensor name + ".npy" when it is already a safe, short, unused
   * file name (letters, digits, '.', '_', '-', not starting with '.'); otherwise
   * {@code <index>_<sanitized name, at most 64 chars>_<8 hex digits of SHA-256(name)>.npy}, which converter
   * names such as "model/conv2d_3/BiasAdd;model/conv2d_3/Conv2D:0" (slashes, colons, hundreds of characters)
   * need. The index makes it unique among the outputs; the hash tells apart names that sanitize alike.
   * manifest.json maps every tensor name to its file.
   */
  static String fileName(String tensorName, int index, Set<String> used) {
    String name = tensorName == null ? "" : tensorName;
    String plain = name + ".npy";
    if (!name.isEmpty() && name.length() <= MAX_PLAIN_NAME_CHARS && name.matches("[A-Za-z0-9_-][A-Za-z0-9._-]*")
        && used.add(plain)) {
      return plain;
    }
    String stem = name.replaceAll("[^A-Za-z0-9._-]+", "_").replaceAll("^[._]+", "");
    if (stem.length() > MAX_STEM_CHARS) {
      stem = stem.substring(0, MAX_STEM_CHARS);
    }
    stem = stem.replaceAll("_+$", "");
    String file = index + "_" + (stem.isEmpty() ? "output" : stem) + "_" + shortHash(name) + ".npy";
    while (!used.add(file)) { // only a plain name of another output spelled exactly like this one
      file = index + "_" + file;
    }
    return file;
  }

  /** The first 8 hex digits of the SHA-256 of the UTF-8 name. */
  private static String shortHash(String name) {
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
          .digest(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(digest, 0, 4);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
