package io.sparkquant.jobs.bench;

import java.util.List;
import picocli.CommandLine.Option;

/**
 * The local masters a benchmark compares, and whether each runs pinned to its cores (a picocli mixin shared by the
 * benchmark commands).
 */
final class LocalMasters {

  @Option(names = "--masters", split = ",", defaultValue = "local[1],local[2]",
      description = "Local masters to compare, comma separated. Default: ${DEFAULT-VALUE}.")
  List<String> masters;

  @Option(names = "--pin-cores",
      description = "Confine the whole JVM (task, JIT compiler and GC threads) to the first N CPUs while local[N] runs"
          + " (Linux taskset), so local[1] gets one core and not the idle ones too. Default: false.")
  boolean pinCores;

  /**
   * Checks every master before Spark starts.
   *
   * @throws IllegalArgumentException for a master that is not local[N]
   */
  List<String> checked() {
    masters.forEach(LocalMasters::cores);
    return masters;
  }

  /** Pins the JVM to {@code master}'s cores until closed, or returns null without --pin-cores. */
  CoreAffinity pin(String master) {
    return pinCores ? CoreAffinity.pin(cores(master)) : null;
  }

  /**
   * The core count of a {@code local[N]} master.
   *
   * @throws IllegalArgumentException for any other master
   */
  static int cores(String master) {
    if (!master.matches("local\\[[1-9]\\d*]")) {
      throw new IllegalArgumentException("--masters entries must look like local[N], N >= 1, got " + master);
    }
    return Integer.parseInt(master.replaceAll("\\D", ""));
  }
}
