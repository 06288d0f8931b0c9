package io.sparkquant.jobs.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/** Process CPU, JIT and GC time of this JVM (the driver and, in local mode, the executor). */
final class JvmCpu {
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
}
