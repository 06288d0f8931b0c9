package io.sparkquant.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.Reference;
import java.util.function.Predicate;
import org.apache.spark.api.plugin.DriverPlugin;
import org.junit.jupiter.api.Test;

class LiveHeapPluginTest {

  private static final int HELD_BYTES = 64 << 20;
  private static final long WAIT_MILLIS = 30_000;

  /** The driver side samples this JVM: a live array must show in the figure, and be gone once dropped. */
  @Test
  void driverSamplesTheLiveHeapOfThisJvm() throws InterruptedException {
    DriverPlugin driver = new LiveHeapPlugin().driverPlugin();
    driver.init(null, null); // neither the context nor the plugin context is used on the driver side
    try {
      byte[] held = new byte[HELD_BYTES];
      long from = System.currentTimeMillis();
      // A loaded machine can delay the sampler's forced collections: wait for samples, within a bound.
      LiveHeapPlugin.Peak whileHeld = awaitPeak(from, peak -> peak.maxLiveBytes() >= HELD_BYTES);
      long heldUntil = System.currentTimeMillis();
      Reference.reachabilityFence(held);
      held = null;
      long dropped = heldUntil + LiveHeapPlugin.SAMPLE_MILLIS;
      LiveHeapPlugin.Peak afterwards = awaitPeak(dropped,
          peak -> peak.maxLiveBytes() < whileHeld.maxLiveBytes() - HELD_BYTES / 2);
      assertTrue(whileHeld.maxLiveBytes() >= HELD_BYTES, "while held: " + whileHeld);
      assertTrue(afterwards.maxLiveBytes() < whileHeld.maxLiveBytes() - HELD_BYTES / 2,
          "after the array was dropped: " + afterwards + " vs " + whileHeld);
    } finally {
      driver.shutdown();
    }
  }

  /**
   * The driver's peak from {@code fromMillis} on, once it satisfies {@code done} or {@link #WAIT_MILLIS} have passed
   * (then whatever was sampled, for the assertion to report; an empty window fails here).
   */
  private static LiveHeapPlugin.Peak awaitPeak(long fromMillis, Predicate<LiveHeapPlugin.Peak> done)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + WAIT_MILLIS;
    while (true) {
      Thread.sleep(LiveHeapPlugin.SAMPLE_MILLIS);
      LiveHeapPlugin.Peak peak =
          LiveHeapPlugin.peaks(fromMillis, System.currentTimeMillis()).get(LiveHeapPlugin.DRIVER);
      if ((peak != null && done.test(peak)) || System.currentTimeMillis() > deadline) {
        assertNotNull(peak, "no driver sample in " + WAIT_MILLIS + " ms");
        return peak;
      }
    }
  }
}
