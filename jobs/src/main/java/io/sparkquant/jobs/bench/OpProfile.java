package io.sparkquant.jobs.bench;

import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.tflite.TfliteOperator;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where the Java interpreter's time goes on one thread: the interpreter runs the batches in a loop on one thread for a
 * while under an in-process JFR recording (execution samples every few milliseconds, with inlined frames), and every
 * sample of that thread is attributed to the operator class whose code it is in ({@link #attribute}), or to the
 * interpreter itself (tensor checks, copies of the outputs) or to the loop around it. JFR samples only threads running
 * Java code, so GC pauses are reported apart, from the recording's GC events, with the bytes allocated per image.
 * A benchmark tool: it reads the interpreter from the outside and changes nothing in it.
 */
final class OpProfile {

  private static final String INTERP = "io.sparkquant.ops.interp.";
  private static final String KERNELS = "io.sparkquant.ops.kernels.";
  /** The interpreter's own classes: the loop over ops, not an op. */
  private static final List<String> ENGINE = List.of("Interpreter", "PreparedOp", "TensorValue", "OpContext");
  static final String OUTSIDE = "outside the interpreter (benchmark loop)";

  private OpProfile() {}

  /** Runs {@code batches} round-robin on one new thread for {@code length} under JFR and prints the breakdown. */
  static void run(Interpreter interpreter, List<float[]> batches, Duration length, PrintWriter console)
      throws IOException, InterruptedException {
    long[] images = new long[1];
    long[] allocated = new long[1];
    Thread worker = new Thread(() -> {
      com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      for (int i = 0; i < 3 * batches.size(); i++) { // warm-up: the JIT compiles before sampling counts
        interpreter.run((Object) batches.get(i % batches.size()));
      }
      long bytes = mx.getCurrentThreadAllocatedBytes();
      long end = System.nanoTime() + length.toNanos();
      long n = 0;
      for (int i = 0; System.nanoTime() < end; i++) {
        float[] x = batches.get(i % batches.size());
        interpreter.run((Object) x);
        n += x.length;
      }
      allocated[0] = mx.getCurrentThreadAllocatedBytes() - bytes;
      images[0] = n;
    }, "op-profile");
    Path file = Files.createTempFile("sparkquant-op-profile", ".jfr");
    long wall;
    try (Recording rec = new Recording()) {
      rec.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(2));
      rec.enable("jdk.GarbageCollection");
      rec.setToDisk(true);
      rec.start();
      long start = System.nanoTime();
      worker.start();
      worker.join();
      wall = System.nanoTime() - start;
      rec.stop();
      rec.dump(file);
    }
    long imageCount = images[0] / perImage(interpreter);
    Map<String, Integer> byOp = new TreeMap<>();
    Map<String, Integer> byMethod = new TreeMap<>();
    int samples = 0;
    double gcPauseSeconds = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
      String type = e.getEventType().getName();
      if (type.equals("jdk.GarbageCollection")) {
        gcPauseSeconds += e.getDuration("sumOfPauses").toNanos() / 1e9;
      } else if (type.equals("jdk.ExecutionSample") && e.getThread("sampledThread") != null
          && worker.getName().equals(e.getThread("sampledThread").getJavaName()) && e.getStackTrace() != null) {
        List<String> frames = new ArrayList<>();
        for (RecordedFrame f : e.getStackTrace().getFrames()) {
          frames.add(f.getMethod().getType().getName() + "#" + f.getMethod().getName());
        }
        if (frames.isEmpty()) {
          continue;
        }
        samples++;
        byOp.merge(attribute(frames), 1, Integer::sum);
        byMethod.merge(frames.get(0).replace(INTERP, "").replace(KERNELS, "kernels."), 1, Integer::sum);
      }
    }
    Files.deleteIfExists(file);
    console.printf("op profile: java int8 interpreter, 1 thread, %.1f s, %d images (%.0f images/s under JFR), %d"
            + " execution samples; ops in the model: %s%n", wall / 1e9, imageCount, imageCount / (wall / 1e9),
        samples, opList(interpreter));
    console.printf("  share of samples by op (JFR samples Java code only; GC pauses below):%n");
    print(console, byOp, samples, 100);
    console.printf("  hottest methods (top frame, self time):%n");
    print(console, byMethod, samples, 12);
    console.printf(Locale.ROOT, "  GC pauses during the run: %.3f s (%.1f%% of wall time); allocated %,d bytes per"
            + " image on the interpreter thread%n", gcPauseSeconds, 100 * gcPauseSeconds / (wall / 1e9),
        imageCount == 0 ? 0 : allocated[0] / imageCount);
    console.flush();
  }

  private static long perImage(Interpreter interpreter) {
    int[] shape = interpreter.inputTensor(0).shape();
    long n = 1;
    for (int d = 1; d < shape.length; d++) {
      n *= shape[d];
    }
    return n;
  }

  /** The model's operators in order, runs of one op counted: "CONV_2D x2, MAX_POOL_2D, ...". */
  private static String opList(Interpreter interpreter) {
    List<String> out = new ArrayList<>();
    String last = null;
    int count = 0;
    for (TfliteOperator op : interpreter.model().operators()) {
      if (op.opName().equals(last)) {
        count++;
        continue;
      }
      if (last != null) {
        out.add(count > 1 ? last + " x" + count : last);
      }
      last = op.opName();
      count = 1;
    }
    if (last != null) {
      out.add(count > 1 ? last + " x" + count : last);
    }
    return String.join(", ", out);
  }

  private static void print(PrintWriter console, Map<String, Integer> counts, int samples, int limit) {
    counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()))
        .limit(limit)
        .forEach(e -> console.printf(Locale.ROOT, "    %5.1f%%  %s%n", 100.0 * e.getValue() / samples, e.getKey()));
  }

  /**
   * What one sample's stack ({@code class#method} frames, top first) is spent on: the interpreter operator class
   * ({@code ConvOp}, {@code PoolingOp}, ...) nearest the top of the stack, whose code or kernel runs in it; else
   * {@code interpreter: Class.method}, its frame nearest the top, for the interpreter's own work (input checks, output
   * copies, the loop over ops); {@link #OUTSIDE} for a sample not inside the interpreter.
   */
  static String attribute(List<String> framesTopFirst) {
    int root = -1; // the interpreter's outermost frame
    for (int i = framesTopFirst.size() - 1; i >= 0; i--) {
      if (topLevel(framesTopFirst.get(i)).equals(INTERP + "Interpreter")) {
        root = i;
        break;
      }
    }
    if (root < 0) {
      return OUTSIDE;
    }
    String kernel = null;
    // from the top toward the interpreter: the first op class is the most specific one (ConvOp's compute before the
    // WindowOp base class that calls it)
    for (int i = 0; i < root; i++) {
      String cls = topLevel(framesTopFirst.get(i));
      if (cls.startsWith(INTERP) && !ENGINE.contains(cls.substring(INTERP.length()))) {
        return label(cls.substring(INTERP.length()));
      }
      if (kernel == null && cls.startsWith(KERNELS)) {
        kernel = "kernels." + cls.substring(KERNELS.length());
      }
    }
    if (kernel != null) { // an op whose kernel is called through a lambda frame JFR does not show
      return kernel;
    }
    String top = framesTopFirst.get(root);
    // the interpreter frame nearest the top names its own work (Interpreter.copy, not System.arraycopy)
    for (int i = 0; i < root; i++) {
      if (framesTopFirst.get(i).startsWith(INTERP)) {
        top = framesTopFirst.get(i);
        break;
      }
    }
    int hash = top.indexOf('#');
    String cls = topLevel(top);
    return "interpreter: " + cls.substring(cls.lastIndexOf('.') + 1) + "." + top.substring(hash + 1);
  }

  /** The top-level class of a {@code class#method} frame (nested, anonymous and lambda classes folded in). */
  private static String topLevel(String frame) {
    String cls = frame.substring(0, frame.indexOf('#'));
    int dollar = cls.indexOf('$');
    return dollar < 0 ? cls : cls.substring(0, dollar);
  }

  private static final Map<String, String> TFLITE_NAMES = new LinkedHashMap<>();

  static {
    TFLITE_NAMES.put("ConvOp", "CONV_2D");
    TFLITE_NAMES.put("DepthwiseConvOp", "DEPTHWISE_CONV_2D");
    TFLITE_NAMES.put("WindowOp", "CONV_2D/DEPTHWISE_CONV_2D shared code");
    TFLITE_NAMES.put("FullyConnectedOp", "FULLY_CONNECTED");
    TFLITE_NAMES.put("PoolingOp", "MAX/AVERAGE_POOL_2D");
    TFLITE_NAMES.put("SoftmaxOp", "SOFTMAX");
    TFLITE_NAMES.put("QuantizeOp", "QUANTIZE");
    TFLITE_NAMES.put("DequantizeOp", "DEQUANTIZE");
    TFLITE_NAMES.put("ReshapeOp", "RESHAPE");
  }

  private static String label(String opClass) {
    String name = TFLITE_NAMES.get(opClass);
    return name == null ? opClass : name + " (" + opClass + ")";
  }
}
