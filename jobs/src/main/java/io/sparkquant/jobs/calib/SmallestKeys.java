package io.sparkquant.jobs.calib;

import java.io.Serializable;
import java.util.Arrays;
import java.util.PriorityQueue;

/** The {@code limit} smallest (key, id) pairs, for exact {@code --rows N} sampling; mergeable. */
final class SmallestKeys implements Serializable {

  private static final long serialVersionUID = 1L;

  private final int limit;
  private long[] keys = new long[0];
  private long[] ids = new long[0];

  SmallestKeys(int limit) {
    this.limit = limit;
  }

  /** The smallest pairs among one partition's rows. */
  static SmallestKeys of(int limit, java.util.Iterator<long[]> keyIdPairs) {
    // A max-heap of the current smallest `limit` pairs.
    PriorityQueue<long[]> heap = new PriorityQueue<>(
        (a, b) -> SampleKeys.compare(b[0], b[1], a[0], a[1]));
    while (keyIdPairs.hasNext()) {
      long[] p = keyIdPairs.next();
      if (heap.size() < limit) {
        heap.add(p);
      } else if (SampleKeys.compare(p[0], p[1], heap.peek()[0], heap.peek()[1]) < 0) {
        heap.poll();
        heap.add(p);
      }
    }
    SmallestKeys s = new SmallestKeys(limit);
    long[][] sorted = heap.toArray(new long[0][]);
    Arrays.sort(sorted, (a, b) -> SampleKeys.compare(a[0], a[1], b[0], b[1]));
    s.keys = new long[sorted.length];
    s.ids = new long[sorted.length];
    for (int i = 0; i < sorted.length; i++) {
      s.keys[i] = sorted[i][0];
      s.ids[i] = sorted[i][1];
    }
    return s;
  }

  /** Merges two sorted lists, keeping the smallest {@code limit}. */
  SmallestKeys merge(SmallestKeys o) {
    int n = Math.min(limit, keys.length + o.keys.length);
    long[] k = new long[n];
    long[] d = new long[n];
    int i = 0;
    int j = 0;
    for (int out = 0; out < n; out++) {
      boolean takeLeft = j >= o.keys.length
          || (i < keys.length && SampleKeys.compare(keys[i], ids[i], o.keys[j], o.ids[j]) <= 0);
      if (takeLeft) {
        k[out] = keys[i];
        d[out] = ids[i++];
      } else {
        k[out] = o.keys[j];
        d[out] = o.ids[j++];
      }
    }
    keys = k;
    ids = d;
    return this;
  }

  int size() {
    return keys.length;
  }

  /** The largest kept pair, {key, id}; only when size() > 0. */
  long[] last() {
    return new long[] {keys[keys.length - 1], ids[ids.length - 1]};
  }
}
