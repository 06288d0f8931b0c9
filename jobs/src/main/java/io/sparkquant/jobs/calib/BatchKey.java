package io.sparkquant.jobs.calib;

import java.io.Serializable;

/** Shuffle key of a sampled row: its canonical batch, then (sampling key, id) for a fixed order inside the batch. */
record BatchKey(int bucket, long key, long id) implements Comparable<BatchKey>, Serializable {

  @Override
  public int compareTo(BatchKey o) {
    int c = Integer.compare(bucket, o.bucket);
    return c != 0 ? c : SampleKeys.compare(key, id, o.key, o.id);
  }
}
