package io.sparkquant.jobs.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.io.IOException;
import java.io.Serializable;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.apache.spark.SparkContext;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spark plugin ({@code spark.plugins}) for benchmarks: measures the live heap of the driver and of every executor
 * JVM. Each JVM forces a full collection every {@link #SAMPLE_MILLIS} ms and records the heap in use at the end of
 * that collection, as the JVM reports it with the collection, so nothing allocated after it counts. Executors send
 * their samples to the driver. The forced collections slow the job down: never enable it for timed runs.
 *
 * <p>This is the live set, the heap a job cannot run without. The peak of "heap used" is not: it counts garbage
 * and follows the collector's sizing (it grew 2x with 10x rows while the live set stayed flat).
 */
public final class LiveHeapPlugin implements SparkPlugin {

  private static final Logger LOG = LoggerFactory.getLogger(LiveHeapPlugin.class);

  static final long SAMPLE_MILLIS = 500;
  /** The JVM name of the driver's samples; also Spark's executor id in local mode (the executor runs in the driver). */
  public static final String DRIVER = "driver";

  /** Live heap of one JVM at the end of a forced full collection. */
  record Sample(String jvm, long epochMillis, long liveBytes) implements Serializable {}

  private static final Queue<Sample> SAMPLES = new ConcurrentLinkedQueue<>();

  /** The largest live heap one JVM reported in a time window, and how many samples it sent. */
  public record Peak(long maxLiveBytes, long samples) {}

  /**
   * Each JVM's peak between two instants (epoch milliseconds), by JVM name ({@value #DRIVER}, or "executor" and
   * the executor id).
   */
  public static Map<String, Peak> peaks(long fromMillis, long toMillis) {
    return SAMPLES.stream()
        .filter(s -> s.epochMillis() >= fromMillis && s.epochMillis() <= toMillis)
        .collect(Collectors.toMap(Sample::jvm, s -> new Peak(s.liveBytes(), 1),
            (a, b) -> new Peak(Math.max(a.maxLiveBytes(), b.maxLiveBytes()), a.samples() + b.samples()),
            TreeMap::new));
  }

  @Override
  public DriverPlugin driverPlugin() {
    return new DriverPlugin() {
      private Sampler sampler;

      @Override
      public Map<String, String> init(SparkContext sc, PluginContext ctx) {
        sampler = new Sampler(bytes -> SAMPLES.add(new Sample(DRIVER, System.currentTimeMillis(), bytes)));
        return Map.of();
      }

      @Override
      public Object receive(Object message) {
        SAMPLES.add((Sample) message);
        return null;
      }

      @Override
      public void shutdown() {
        sampler.close();
      }
    };
  }

  @Override
  public ExecutorPlugin executorPlugin() {
    return new ExecutorPlugin() {
      private Sampler sampler;

      @Override
      public void init(PluginContext ctx, Map<String, String> extraConf) {
        if (DRIVER.equals(ctx.executorID())) {
          return; // local mode: the driver's sampler already measures this JVM
        }
        String jvm = "executor " + ctx.executorID();
        sampler = new Sampler(bytes -> {
          try {
            ctx.send(new Sample(jvm, System.currentTimeMillis(), bytes));
          } catch (IOException e) {
            LOG.warn("cannot send a live heap sample of {} to the driver", jvm, e);
          }
        });
      }

      @Override
      public void shutdown() {
        if (sampler != null) {
          sampler.close();
        }
      }
    };
  }

  /** Forces a full collection every {@link #SAMPLE_MILLIS} ms and reports the heap in use after each one. */
  private static final class Sampler implements AutoCloseable {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "live-heap-sampler");
      t.setDaemon(true);
      return t;
    });
    private final NotificationListener listener;

    Sampler(LongConsumer liveBytes) {
      Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
          .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
      listener = (Notification n, Object handback) -> {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
          return;
        }
        GarbageCollectionNotificationInfo info =
            GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
        if ("System.gc()".equals(info.getGcCause())) {
          liveBytes.accept(info.getGcInfo().getMemoryUsageAfterGc().entrySet().stream()
              .filter(e -> heapPools.contains(e.getKey())).mapToLong(e -> e.getValue().getUsed()).sum());
        }
      };
      for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        ((NotificationEmitter) gc).addNotificationListener(listener, null, null);
      }
      timer.scheduleAtFixedRate(System::gc, SAMPLE_MILLIS, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
      timer.shutdownNow();
      for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        try {
          ((NotificationEmitter) gc).removeNotificationListener(listener);
        } catch (ListenerNotFoundException e) {
          // not registered with this collector: nothing to remove
        }
      }
    }
  }
}
