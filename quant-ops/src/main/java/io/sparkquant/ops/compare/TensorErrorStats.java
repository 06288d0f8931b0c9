package io.sparkquant.ops.compare;

import java.io.Serializable;

/**
 * Mergeable error statistics of a fixed list of tensors (by position in {@link LayerComparison#tensors()}):
 * per tensor the sum of reference², the sum of error², the max |error| and the element count. Sums are
 * {@link ExactSum}s, so the merged result does not depend on how rows were split or in what order statistics
 * were merged (STYLE.md section 4: {@link #empty} is the identity, add/merge associative and commutative,
 * merge mutates only its receiver).
 */
public final class TensorErrorStats implements Serializable {

  private static final long serialVersionUID = 1L;

  private final ExactSum[] sumReferenceSquared;
  private final ExactSum[] sumErrorSquared;
  private final double[] maxAbsError;
  private final long[] count;
  private long rows;

  private TensorErrorStats(int tensors) {
    sumReferenceSquared = new ExactSum[tensors];
    sumErrorSquared = new ExactSum[tensors];
    maxAbsError = new double[tensors];
    count = new long[tensors];
    for (int i = 0; i < tensors; i++) {
      sumReferenceSquared[i] = new ExactSum();
      sumErrorSquared[i] = new ExactSum();
    }
  }

  /** The statistics of no rows for {@code tensors} tensors. */
  public static TensorErrorStats empty(int tensors) {
    return new TensorErrorStats(tensors);
  }

  public int tensorCount() {
    return count.length;
  }

  /**
   * Adds one tensor's values for a batch: {@code error = quantized - reference} element by element in double.
   *
   * @throws IllegalArgumentException on a length mismatch or a non-finite value
   */
  public void add(int tensor, float[] reference, float[] quantized) {
    if (reference.length != quantized.length) {
      throw new IllegalArgumentException("tensor #" + tensor + ": reference has " + reference.length
          + " elements, quantized " + quantized.length);
    }
    ExactSum ref2 = sumReferenceSquared[tensor];
    ExactSum err2 = sumErrorSquared[tensor];
    double max = maxAbsError[tensor];
    for (int i = 0; i < reference.length; i++) {
      double r = reference[i];
      double e = (double) quantized[i] - r;
      ref2.add(r * r); // a float squared is exact in double
      err2.add(e * e);
      max = Math.max(max, Math.abs(e));
    }
    maxAbsError[tensor] = max;
    count[tensor] += reference.length;
  }

  /** Counts rows observed (the caller adds every tensor of those rows). */
  public void addRows(long n) {
    rows += n;
  }

  /** Adds {@code other} into this (same tensor count); {@code other} is unchanged. */
  public TensorErrorStats merge(TensorErrorStats other) {
    if (other.tensorCount() != tensorCount()) {
      throw new IllegalArgumentException("cannot merge statistics of " + other.tensorCount() + " tensors into "
          + tensorCount());
    }
    for (int i = 0; i < count.length; i++) {
      sumReferenceSquared[i].merge(other.sumReferenceSquared[i]);
      sumErrorSquared[i].merge(other.sumErrorSquared[i]);
      maxAbsError[i] = Math.max(maxAbsError[i], other.maxAbsError[i]);
      count[i] += other.count[i];
    }
    rows += other.rows;
    return this;
  }

  public long rows() {
    return rows;
  }

  public long count(int tensor) {
    return count[tensor];
  }

  public double sumReferenceSquared(int tensor) {
    return sumReferenceSquared[tensor].value();
  }

  public double sumErrorSquared(int tensor) {
    return sumErrorSquared[tensor].value();
  }

  public double maxAbsError(int tensor) {
    return maxAbsError[tensor];
  }
}
