package io.sparkquant.ops.calib;

import java.io.Serializable;

/**
 * A statistic that can be computed on shards and merged (STYLE.md section 4, Beam's CombineFn contract).
 *
 * <ul>
 *   <li>A freshly created empty value is the accumulation of zero inputs, and the identity of {@link #merge}.
 *   <li>Adding inputs and merging are associative and commutative, so the result does not depend on how the
 *       inputs were split into partitions or in which order the partial results arrive.
 *   <li>{@link #merge} mutates only its receiver; getters never mutate.
 * </ul>
 *
 * @param <S> the implementing type
 */
public interface MergeableStats<S extends MergeableStats<S>> extends Serializable {

  /** Folds {@code other} into this value and returns this; {@code other} is left unchanged. */
  S merge(S other);

  /** An independent deep copy. */
  S copy();

  /** The number of finite inputs observed. */
  long count();
}
