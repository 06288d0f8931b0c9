package io.sparkquant.ops.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Checks the mergeable-statistics laws (STYLE.md section 4, in the spirit of Beam's CombineFnTester) with exact
 * equality: identity on both sides, associativity, commutativity, merge leaving its argument alone, and shard
 * invariance over even and exponential shardings, shuffled order, inserted empty accumulators and incremental
 * merges that read the result between steps; plus Java-serialization and JSON round trips.
 *
 * @param <I> one input
 * @param <S> the statistics
 */
final class MergeLaws<I, S extends MergeableStats<S>> {

  private final Supplier<S> empty;
  private final BiConsumer<S, I> add;
  private final Function<S, String> json;
  private final Function<String, S> fromJson;

  MergeLaws(Supplier<S> empty, BiConsumer<S, I> add, Function<S, String> json, Function<String, S> fromJson) {
    this.empty = empty;
    this.add = add;
    this.json = json;
    this.fromJson = fromJson;
  }

  private S accumulate(List<I> inputs) {
    S s = empty.get();
    for (I i : inputs) {
      add.accept(s, i);
    }
    return s;
  }

  /** Returns the reference accumulation of all inputs after checking every law against it. */
  S check(List<I> inputs, long seed) {
    Random rnd = new Random(seed);
    S reference = accumulate(inputs);
    String referenceJson = json.apply(reference);

    // The empty value is the accumulation of zero inputs and an identity on both sides.
    assertEquals(empty.get(), accumulate(List.of()), "empty() == accumulation of zero inputs");
    assertEquals(reference, empty.get().merge(reference), "identity on the left");
    assertEquals(reference, reference.copy().merge(empty.get()), "identity on the right");
    assertEquals(empty.get(), empty.get().merge(empty.get()), "empty merged with empty");

    for (int trial = 0; trial < 10; trial++) {
      List<I> shuffled = new ArrayList<>(inputs);
      Collections.shuffle(shuffled, rnd);
      int cut1 = rnd.nextInt(shuffled.size() + 1);
      int cut2 = cut1 + rnd.nextInt(shuffled.size() - cut1 + 1);
      S a = accumulate(shuffled.subList(0, cut1));
      S b = accumulate(shuffled.subList(cut1, cut2));
      S c = accumulate(shuffled.subList(cut2, shuffled.size()));
      S aBefore = a.copy();
      S bBefore = b.copy();
      S cBefore = c.copy();
      S left = a.copy().merge(b).merge(c);
      S right = a.copy().merge(b.copy().merge(c));
      assertEquals(reference, left, "(a + b) + c, trial " + trial);
      assertEquals(reference, right, "a + (b + c), trial " + trial);
      assertEquals(a.copy().merge(b), b.copy().merge(a), "a + b == b + a, trial " + trial);
      a.copy().merge(b).merge(c);
      assertEquals(aBefore, a, "merge must not mutate its argument");
      assertEquals(bBefore, b, "merge must not mutate its argument");
      assertEquals(cBefore, c, "merge must not mutate its argument");
    }

    // Even shardings into k shards, merged in a shuffled order with empty accumulators inserted.
    for (int k : new int[] {1, 2, 3, 5, 8, 64}) {
      List<I> shuffled = new ArrayList<>(inputs);
      Collections.shuffle(shuffled, rnd);
      List<S> shards = new ArrayList<>();
      for (int s = 0; s < k; s++) {
        shards.add(accumulate(shuffled.subList(s * shuffled.size() / k, (s + 1) * shuffled.size() / k)));
        if (rnd.nextBoolean()) {
          shards.add(empty.get());
        }
      }
      Collections.shuffle(shards, rnd);
      assertEquals(reference, mergeIncrementally(shards), "even sharding k=" + k);
      assertEquals(reference, mergeTree(shards), "even sharding k=" + k + " as a tree");
    }

    // Exponential sharding: sizes 1, 2, 4, ... as a skewed partitioning produces.
    List<I> shuffled = new ArrayList<>(inputs);
    Collections.shuffle(shuffled, rnd);
    List<S> shards = new ArrayList<>();
    int from = 0;
    for (int size = 1; from < shuffled.size(); size *= 2) {
      int to = Math.min(shuffled.size(), from + size);
      shards.add(accumulate(shuffled.subList(from, to)));
      shards.add(empty.get());
      from = to;
    }
    assertEquals(reference, mergeIncrementally(shards), "exponential sharding");
    Collections.reverse(shards);
    assertEquals(reference, mergeIncrementally(shards), "exponential sharding, reversed");

    // Round trips.
    assertEquals(reference, javaRoundTrip(reference), "Java serialization round trip");
    assertEquals(reference, fromJson.apply(referenceJson), "JSON round trip");
    assertEquals(referenceJson, json.apply(fromJson.apply(referenceJson)), "JSON text is stable");
    assertEquals(empty.get(), fromJson.apply(json.apply(empty.get())), "JSON round trip of empty");
    assertEquals(referenceJson, json.apply(reference), "reading the result did not change it");
    return reference;
  }

  /** Merges left to right, reading the result (count, JSON) after every step as a driver might. */
  private S mergeIncrementally(List<S> shards) {
    S acc = empty.get();
    for (S s : shards) {
      acc.merge(s);
      S snapshot = acc.copy();
      acc.count();
      json.apply(acc);
      assertEquals(snapshot, acc, "reading the result must not mutate it");
    }
    return acc;
  }

  /** Pairwise merges, as treeAggregate does. */
  private S mergeTree(List<S> shards) {
    List<S> level = new ArrayList<>();
    for (S s : shards) {
      level.add(s.copy());
    }
    while (level.size() > 1) {
      List<S> next = new ArrayList<>();
      for (int i = 0; i < level.size(); i += 2) {
        next.add(i + 1 < level.size() ? level.get(i).merge(level.get(i + 1)) : level.get(i));
      }
      level = next;
    }
    return level.isEmpty() ? empty.get() : level.get(0);
  }

  @SuppressWarnings("unchecked")
  static <T> T javaRoundTrip(T value) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
        out.writeObject(value);
      }
      try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
        return (T) in.readObject();
      }
    } catch (IOException | ClassNotFoundException e) {
      throw new AssertionError("Java serialization failed", e);
    }
  }
}
