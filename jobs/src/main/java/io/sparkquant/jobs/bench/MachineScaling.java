package io.sparkquant.jobs.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The machine's own scaling from one busy core to k, measured between a benchmark's timed runs: a fixed integer loop
 * over 16 KB (in every core's L1 cache, so neither memory nor shared caches are involved) runs on one thread, then on
 * k threads at once, and the ratio of their per-thread rates is recorded. On a dedicated machine it is 1.0. On this
 * project's VMs it falls to 0.85 in spells of tens of seconds (the host shares what the guest's cores run on), and any
 * speed-up measured in such a spell falls with it; recording the ratio next to the timed runs tells the host's share
 * of a speed-up's shortfall from the code's.
 */
final class MachineScaling {

  private static final int[] DATA = new int[4096];
  private static final long ROUNDS = 40_000; // about 70 ms on one core here
  private static volatile long sink;

  private final List<Double> ratios = new ArrayList<>();

  static {
    for (int i = 0; i < DATA.length; i++) {
      DATA[i] = i * 31;
    }
    for (int i = 0; i < 20; i++) { // compiled before the first measurement
      sink = loop(ROUNDS / 20);
    }
  }

  /** Measures one pair, one thread then {@code threads} at once, and records the ratio of per-thread rates. */
  void measure(int threads) {
    ratios.add(slowestNanos(1) / (double) slowestNanos(threads));
  }

  boolean isEmpty() {
    return ratios.isEmpty();
  }

  /** The median per-thread ratio with its minimum and maximum, and the count, e.g. "0.94 (0.86-0.99, 15 pairs)". */
  String summary() {
    double[] r = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return String.format(Locale.ROOT, "%.2f (%.2f-%.2f, %d pairs)", median(r), r[0], r[r.length - 1], r.length);
  }

  double median() {
    return median(ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray());
  }

  private static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** Wall nanoseconds of the slowest of {@code threads} threads each running the loop once, all started together. */
  private static long slowestNanos(int threads) {
    long[] nanos = new long[threads];
    Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      int slot = t;
      workers[t] = new Thread(() -> {
        long start = System.nanoTime();
        sink = loop(ROUNDS);
        nanos[slot] = System.nanoTime() - start;
      });
    }
    for (Thread w : workers) {
      w.start();
    }
    try {
      for (Thread w : workers) {
        w.join();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while measuring the machine's scaling", e);
    }
    return Arrays.stream(nanos).max().orElseThrow();
  }

  private static long loop(long rounds) {
    long s = 0;
    for (long i = 0; i < rounds; i++) {
      for (int j = 0; j < DATA.length; j++) {
        s += DATA[j] * (j ^ i);
      }
    }
    return s;
  }
}
