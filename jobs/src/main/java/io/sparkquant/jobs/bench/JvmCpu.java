package io.sparkquant.jobs.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/** Process CPU, JIT and GC time of this JVM (the driver and, in local mode, the executor). */
final class JvmCpu {
  static final int MAX_WARM_UPS = 5;
  /** A run is warm when the JIT compiler threads worked for less than this share of its wall time. */
  private static final double QUIET_JIT_SHARE = 0.05;

  long wallNanos;
  long cpuNanos;
  long jitMillis;
  long gcMillis;

  static JvmCpu now() {
    JvmCpu c = new JvmCpu();
    c.wallNanos = System.nanoTime();
    c.cpuNanos = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
    c.jitMillis = ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      c.gcMillis += Math.max(0, gc.getCollectionTime());
    }
    return c;
  }

  JvmCpu minus(JvmCpu earlier) {
    JvmCpu d = new JvmCpu();
    d.wallNanos = wallNanos - earlier.wallNanos;
    d.cpuNanos = cpuNanos - earlier.cpuNanos;
    d.jitMillis = jitMillis - earlier.jitMillis;
    d.gcMillis = gcMillis - earlier.gcMillis;
    return d;
  }

  void add(JvmCpu d) {
    wallNanos += d.wallNanos;
    cpuNanos += d.cpuNanos;
    jitMillis += d.jitMillis;
    gcMillis += d.gcMillis;
  }

  double cores() {
    return cpuNanos / (double) Math.max(1, wallNanos);
  }

  /**
   * Untimed runs of {@code run} until the JIT compiler works for less than 5 % of one's wall time, at most 5; returns
   * how many ran. A benchmark that times the next runs then sees compiled code, and on a machine whose cores the
   * timed work fills, no compiler thread taking them.
   */
  static int warmUp(Runnable run) {
    for (int i = 1; ; i++) {
      JvmCpu before = now();
      run.run();
      JvmCpu used = now().minus(before);
      if (i == MAX_WARM_UPS || used.jitQuiet()) {
        return i;
      }
    }
  }

  /** Whether the JIT compiler threads worked for less than 5 % of this interval's wall time. */
  boolean jitQuiet() {
    return jitMillis * 1e6 < QUIET_JIT_SHARE * wallNanos;
  }
}
