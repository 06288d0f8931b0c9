package io.sparkquant.jobs.calib;

/**
 * Deterministic per-row keys from a seed and the row id, so that the sample depends only on (seed, id): reruns and
 * different partitionings pick the same rows.
 */
final class SampleKeys {

  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
  private static final double TWO_POW_53 = 9007199254740992.0;

  private SampleKeys() {}

  /** SplitMix64's finalizer: a bijective, well-mixed 64-bit hash. */
  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The sampling key of a row. */
  static long key(long seed, long id) {
    return mix64(id * GOLDEN_GAMMA + mix64(seed));
  }

  /** True for a fraction {@code f} of keys: the key's top 53 bits as a uniform number in [0, 1) below f. */
  static boolean inFraction(long key, double fraction) {
    return (key >>> 11) < fraction * TWO_POW_53;
  }

  /** Orders rows by (key, id), unsigned on the key. */
  static int compare(long keyA, long idA, long keyB, long idB) {
    int c = Long.compareUnsigned(keyA, keyB);
    return c != 0 ? c : Long.compare(idA, idB);
  }
}
