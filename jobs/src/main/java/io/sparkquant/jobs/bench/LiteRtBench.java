package io.sparkquant.jobs.bench;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * LiteRT (npm {@code @litertjs/core}: XNNPACK in WebAssembly under Node, one thread) as a peer in bench-interpreter:
 * one long-lived {@code deploy/bench/litert/litert.sh --serve} process that has loaded the models and the rows; each
 * {@link #run} times one pass of it over every row, so the caller interleaves these passes with its own engines.
 * Benchmark-only: the Node side is not part of the build (deploy/bench/litert/README.md).
 */
final class LiteRtBench implements AutoCloseable {

  /**
   * One timed pass, timed inside Node (without this pipe): images per wall-clock second and per CPU-second of the Node
   * process, and the top-1 class of every row.
   */
  record Pass(double imagesPerSecond, double imagesPerCpuSecond, int[] argmax) {}

  private final Process process;
  private final BufferedReader out;
  private final BufferedWriter in;
  private final Path log;
  private final String description;

  private LiteRtBench(Process process, Path log) throws IOException {
    this.process = process;
    this.log = log;
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
    String ready = readLine();
    if (!ready.startsWith("ready ")) {
      throw failure("expected a ready line, got: " + ready);
    }
    this.description = ready.substring("ready ".length());
  }

  /**
   * Starts the Node server on {@code rows} (a file from {@link #writeRows}) and the models (name to .tflite file);
   * {@code dir} holds litert.sh. Returns once the models are compiled and warmed up.
   */
  static LiteRtBench start(Path dir, Path rows, Map<String, Path> models, Path work) throws IOException {
    Path script = dir.resolve("litert.sh");
    if (!Files.isRegularFile(script)) {
      throw new IOException("no " + script + " (set --litert-dir to the checkout's deploy/bench/litert)");
    }
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("bash", script.toString(),
        "--rows", rows.toString(), "--serve"));
    models.forEach((name, file) -> {
      cmd.add("--model");
      cmd.add(name + "=" + file);
    });
    Path log = work.resolve("litert-stderr.log");
    // LiteRT logs INFO lines on stderr: keep them out of the report, show them when something fails
    Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    try {
      return new LiteRtBench(p, log);
    } catch (IOException | RuntimeException e) {
      p.destroy();
      throw e;
    }
  }

  /** The ready line's description: package version, Node version, wasm build, threads, rows, models. */
  String description() {
    return description;
  }

  /** Times one pass of {@code model} over every row. */
  Pass run(String model) throws IOException {
    in.write("run " + model + "\n");
    in.flush();
    String line = readLine();
    Map<String, String> kv = parse(line);
    if (!line.startsWith("litert ") || !kv.containsKey("images_per_s") || !kv.containsKey("images_per_cpu_s")
        || !kv.containsKey("argmax")) {
      throw failure("unexpected answer to 'run " + model + "': " + line);
    }
    String[] classes = kv.get("argmax").split(",");
    int[] argmax = new int[classes.length];
    for (int i = 0; i < argmax.length; i++) {
      argmax[i] = Integer.parseInt(classes[i]);
    }
    return new Pass(Double.parseDouble(kv.get("images_per_s")), Double.parseDouble(kv.get("images_per_cpu_s")),
        argmax);
  }

  /** The {@code key=value} tokens of one answer line. */
  static Map<String, String> parse(String line) {
    Map<String, String> kv = new HashMap<>();
    for (String token : line.trim().split("\\s+")) {
      int eq = token.indexOf('=');
      if (eq > 0) {
        kv.put(token.substring(0, eq), token.substring(eq + 1));
      }
    }
    return kv;
  }

  /**
   * Writes float32 rows for bench.mjs: "SQRW", int32 element type (1 = float32), int32 rank, the dims (dim 0 = rows),
   * then the values, all little-endian. {@code itemShape} is one row's shape (e.g. 28, 28, 1).
   */
  static void writeRows(Path file, float[] rows, int[] itemShape) throws IOException {
    int item = 1;
    for (int d : itemShape) {
      item *= d;
    }
    if (rows.length % item != 0) {
      throw new IllegalArgumentException(rows.length + " values are not whole rows of " + item);
    }
    ByteBuffer b = ByteBuffer.allocate(12 + 4 * (itemShape.length + 1) + 4 * rows.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.put("SQRW".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(itemShape.length + 1).putInt(rows.length / item);
    for (int d : itemShape) {
      b.putInt(d);
    }
    b.asFloatBuffer().put(rows);
    b.position(b.capacity()).flip();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      while (b.hasRemaining()) {
        ch.write(b);
      }
    }
  }

  private String readLine() throws IOException {
    String line = out.readLine();
    if (line == null) {
      throw failure("the LiteRT process ended");
    }
    return line;
  }

  private IOException failure(String what) {
    String stderr;
    try {
      String all = Files.readString(log);
      stderr = all.length() > 4000 ? all.substring(all.length() - 4000) : all;
    } catch (IOException e) {
      stderr = "(no log: " + e.getMessage() + ")";
    }
    return new IOException("LiteRT benchmark: " + what + "; its stderr (" + log + "):\n" + stderr);
  }

  @Override
  public void close() throws IOException, InterruptedException {
    try {
      in.write("quit\n");
      in.flush();
    } catch (IOException e) {
      // already gone: waitFor below reaps it
    }
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
