package io.sparkquant.jobs.calib;

import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The executor-side cache of float models, keyed by the SHA-256 of the model bytes: each JVM deserializes a model
 * once. DL4J networks are not safe for concurrent inference, so concurrent tasks in one JVM each lease their own
 * instance, cloned from the deserialized prototype (a parameter copy, far cheaper than reading the zip) and returned
 * to a pool for the next task.
 */
final class ModelCache {

  /** Distinct models kept per JVM (least recently used beyond this are dropped). */
  private static final int MAX_MODELS = 2;

  private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>(4, 0.75f, true);

  private ModelCache() {}

  /** A leased model instance with its imported graph; close it to return the instance. */
  static final class Lease implements AutoCloseable {
    private final Entry entry;
    private final Model model;

    private Lease(Entry entry, Model model) {
      this.entry = entry;
      this.model = model;
    }

    Graph graph() {
      return entry.graph;
    }

    Model model() {
      return model;
    }

    @Override
    public void close() {
      entry.release(model);
    }
  }

  private static final class Entry {
    private final Model prototype;
    private final Graph graph;
    private final Deque<Model> free = new ArrayDeque<>();

    Entry(Model prototype, Graph graph) {
      this.prototype = prototype;
      this.graph = graph;
    }

    synchronized Model acquire() {
      Model m = free.pollFirst();
      if (m != null) {
        return m;
      }
      if (prototype instanceof MultiLayerNetwork mln) {
        return mln.clone();
      }
      return ((ComputationGraph) prototype).clone();
    }

    synchronized void release(Model m) {
      free.addFirst(m);
    }
  }

  /**
   * Leases an instance of the model whose bytes hash to {@code sha256}; {@code bytes} is only read on a miss (so the
   * broadcast is fetched at most once per JVM and model).
   */
  static Lease lease(String sha256, Supplier<byte[]> bytes, int[] inputShape) {
    Entry entry;
    synchronized (ENTRIES) {
      entry = ENTRIES.get(sha256);
      if (entry == null) {
        entry = load(bytes.get(), inputShape);
        ENTRIES.put(sha256, entry);
        Iterator<String> oldest = ENTRIES.keySet().iterator();
        while (ENTRIES.size() > MAX_MODELS) {
          oldest.next();
          oldest.remove();
        }
      }
    }
    return new Lease(entry, entry.acquire());
  }

  private static Entry load(byte[] bytes, int[] inputShape) {
    try {
      Path tmp = Files.createTempFile("sparkquant-model", ".zip");
      try {
        Files.write(tmp, bytes);
        Model model = Dl4jImporter.load(tmp);
        return new Entry(model, Dl4jImporter.importModel(model, inputShape));
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restore the broadcast DL4J model", e);
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }
}
