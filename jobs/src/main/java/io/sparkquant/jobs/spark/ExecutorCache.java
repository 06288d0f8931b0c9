package io.sparkquant.jobs.spark;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The executor-side cache of models restored from broadcast bytes, keyed by their SHA-256: each JVM restores a
 * model once and reuses it for every task and job. Models are not safe for concurrent inference, so each
 * concurrent task leases its own instance (a copy of the first, far cheaper than restoring the bytes again)
 * and hands it back when done. The least recently used models beyond {@link #MAX_MODELS} are dropped, so a
 * long-lived executor (a notebook session) does not keep every model it ever saw.
 */
public final class ExecutorCache {

  static final int MAX_MODELS = 4;

  private static final Map<String, Pool<?>> POOLS = new LinkedHashMap<>(8, 0.75f, true);
  /** Loads per key in this JVM, guarded by POOLS; kept past eviction so that a reload counts again. */
  private static final Map<String, Long> LOADS = new HashMap<>();

  private ExecutorCache() {}

  /**
   * An instance of the model cached under {@code key}; {@code load} runs only on a miss (so the broadcast is
   * fetched at most once per JVM and model) and {@code copy} makes the instances for concurrent tasks.
   */
  @SuppressWarnings("unchecked")
  public static <T> Lease<T> lease(String key, Supplier<T> load, UnaryOperator<T> copy) {
    Pool<T> pool;
    synchronized (POOLS) {
      pool = (Pool<T>) POOLS.get(key);
      if (pool == null) {
        pool = new Pool<>(load.get(), copy);
        POOLS.put(key, pool);
        LOADS.merge(key, 1L, Long::sum);
        Iterator<String> oldest = POOLS.keySet().iterator();
        while (POOLS.size() > MAX_MODELS) {
          oldest.next();
          oldest.remove();
        }
      }
    }
    return new Lease<>(pool, pool.acquire());
  }

  /** Number of models cached in this JVM (for tests and logs). */
  public static int size() {
    synchronized (POOLS) {
      return POOLS.size();
    }
  }

  /**
   * How many times a {@code load} ran for {@code key} in this JVM, including reloads after eviction (for tests
   * and logs: 1 after any number of jobs means the model was restored once and reused).
   */
  public static long loads(String key) {
    synchronized (POOLS) {
      return LOADS.getOrDefault(key, 0L);
    }
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  private static final class Pool<T> {
    private final T template;
    private final UnaryOperator<T> copy;
    private final Deque<T> idle = new ArrayDeque<>();

    Pool(T template, UnaryOperator<T> copy) {
      this.template = template;
      this.copy = copy;
    }

    synchronized T acquire() {
      T idleInstance = idle.pollFirst();
      return idleInstance != null ? idleInstance : copy.apply(template);
    }

    synchronized void release(T instance) {
      idle.addFirst(instance);
    }
  }

  /** A model instance borrowed from the cache; close the lease to hand it back. */
  public static final class Lease<T> implements AutoCloseable {
    private final Pool<T> pool;
    private final T value;

    private Lease(Pool<T> pool, T value) {
      this.pool = pool;
      this.value = value;
    }

    public T value() {
      return value;
    }

    @Override
    public void close() {
      pool.release(value);
    }
  }
}
