package io.sparkquant.data;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Deterministic subsets of a tensor dataset chosen by a seeded hash of the {@code id} column (DESIGN.md: calibration
 * subsets), so reruns, any partitioning and any executor count pick the same rows. Both methods rank rows by the
 * same key, so {@link #first} with n rows is a subset of {@link #fraction} whenever it keeps at least n rows.
 */
public final class IdSample {

  private static final long KEY_BITS_MASK = (1L << 53) - 1;
  private static final double KEY_RANGE = 1L << 53;

  private IdSample() {}

  /** The sampling key in [0, 1): {@code (xxhash64(id, seed) & (2^53 - 1)) / 2^53}. */
  public static Column key(long seed) {
    return xxhash64(col(TensorDatasets.ID), lit(seed)).bitwiseAND(lit(KEY_BITS_MASK)).divide(lit(KEY_RANGE));
  }

  /** Rows whose key is below {@code fraction}: about fraction * count rows, with no shuffle. */
  public static Dataset<Row> fraction(Dataset<Row> rows, double fraction, long seed) {
    if (!(fraction > 0 && fraction <= 1)) {
      throw new IllegalArgumentException("fraction must be in (0, 1], got " + fraction);
    }
    return rows.filter(key(seed).lt(lit(fraction)));
  }

  /** The n rows with the smallest keys (ties broken by id): exactly min(n, count) rows. */
  public static Dataset<Row> first(Dataset<Row> rows, int n, long seed) {
    if (n < 1) {
      throw new IllegalArgumentException("n must be at least 1, got " + n);
    }
    return rows.orderBy(key(seed), col(TensorDatasets.ID)).limit(n);
  }
}
