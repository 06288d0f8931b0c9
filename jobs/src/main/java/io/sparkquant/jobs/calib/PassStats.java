package io.sparkquant.jobs.calib;

import io.sparkquant.ops.calib.MergeableStats;
import io.sparkquant.ops.calib.ModelStats;

/** One calibration pass's mergeable result: the rows fed to the model and the per-tensor statistics. */
final class PassStats<S extends MergeableStats<S>> implements MergeableStats<PassStats<S>> {

  private static final long serialVersionUID = 1L;

  private long rows;
  private final ModelStats<S> tensors;

  private PassStats(long rows, ModelStats<S> tensors) {
    this.rows = rows;
    this.tensors = tensors;
  }

  static <S extends MergeableStats<S>> PassStats<S> empty() {
    return new PassStats<S>(0, ModelStats.<S>empty());
  }

  void addRows(long n) {
    rows += n;
  }

  long rows() {
    return rows;
  }

  ModelStats<S> tensors() {
    return tensors;
  }

  @Override
  public PassStats<S> merge(PassStats<S> other) {
    rows += other.rows;
    tensors.merge(other.tensors);
    return this;
  }

  @Override
  public PassStats<S> copy() {
    return new PassStats<>(rows, tensors.copy());
  }

  @Override
  public long count() {
    return rows;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PassStats<?> p && p.rows == rows && p.tensors.equals(tensors);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(rows) * 31 + tensors.hashCode();
  }
}
