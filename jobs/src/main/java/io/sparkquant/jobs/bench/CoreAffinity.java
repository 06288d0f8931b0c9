package io.sparkquant.jobs.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Confines every thread of this JVM to the first CPUs while a benchmark runs a master ({@code --pin-cores}), with
 * Linux's {@code taskset}. Without it local[1] is one task thread, while the JIT compiler and the garbage collector
 * run on the otherwise idle cores; so local[1] uses more than one core and the local[1] -> local[2] speed-up
 * understates how the work scales with cores.
 */
final class CoreAffinity implements AutoCloseable {

  private static final int ONLINE = Runtime.getRuntime().availableProcessors(); // read before any pinning

  private CoreAffinity() {}

  /**
   * Pins the JVM to CPUs 0 to {@code cores - 1} until {@link #close}.
   *
   * @throws IllegalArgumentException if the machine has fewer CPUs
   */
  static CoreAffinity pin(int cores) {
    if (cores > ONLINE) {
      throw new IllegalArgumentException("--pin-cores: local[" + cores + "] needs " + cores + " CPUs, this JVM has "
          + ONLINE);
    }
    set(cores);
    return new CoreAffinity();
  }

  @Override
  public void close() {
    set(ONLINE);
  }

  private static void set(int cores) {
    // -a: every thread that exists now (tasks, JIT compiler, GC); threads started later inherit their creator's set
    ProcessBuilder taskset = new ProcessBuilder("taskset", "-a", "-p", "-c", "0-" + (cores - 1),
        Long.toString(ProcessHandle.current().pid())).redirectErrorStream(true);
    try {
      Process p = taskset.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IllegalStateException("taskset could not pin this JVM to " + cores + " CPUs: " + out.strip());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("--pin-cores needs Linux's taskset (util-linux)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while pinning this JVM to " + cores + " CPUs", e);
    }
  }
}
