package io.sparkquant.jobs.eval;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * Per-JVM cache of deserialized models, keyed by the SHA-256 of the model bytes: an executor deserializes a
 * broadcast model once and reuses it for every task and every job. Predictors are not thread-safe, so each
 * concurrent task leases its own instance (a {@link Predictor#copy()} of the first) and returns it when done.
 * Models stay cached for the life of the JVM (jobs score one or two models).
 */
public final class PredictorCache {

  private static final Map<String, Pool> POOLS = new ConcurrentHashMap<>();

  private PredictorCache() {}

  /** A predictor for this task; close the lease to hand it back. */
  public static Lease lease(String contentHash, Supplier<Predictor> load) {
    Pool pool = POOLS.computeIfAbsent(contentHash, k -> new Pool(load.get()));
    Predictor idle = pool.idle.poll();
    return new Lease(pool, idle != null ? idle : pool.template.copy());
  }

  /** Number of distinct models deserialized in this JVM (for tests and logs). */
  public static int size() {
    return POOLS.size();
  }

  private static final class Pool {
    final Predictor template;
    final Queue<Predictor> idle = new ConcurrentLinkedQueue<>();

    Pool(Predictor template) {
      this.template = template;
    }
  }

  /** A predictor borrowed from the cache. */
  public static final class Lease implements AutoCloseable {
    private final Pool pool;
    private final Predictor predictor;

    private Lease(Pool pool, Predictor predictor) {
      this.pool = pool;
      this.predictor = predictor;
    }

    public Predictor predictor() {
      return predictor;
    }

    @Override
    public void close() {
      pool.idle.add(predictor);
    }
  }
}
