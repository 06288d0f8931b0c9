package io.sparkquant.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.Reference;
import org.apache.spark.api.plugin.DriverPlugin;
import org.junit.jupiter.api.Test;

class LiveHeapPluginTest {

  private static final int HELD_BYTES = 64 << 20;

  /** The driver side samples this JVM: a live array must show in the figure, and be gone once dropped. */
  @Test
  void driverSamplesTheLiveHeapOfThisJvm() throws InterruptedException {
    DriverPlugin driver = new LiveHeapPlugin().driverPlugin();
    driver.init(null, null); // neither the context nor the plugin context is used on the driver side
    try {
      byte[] held = new byte[HELD_BYTES];
      long from = System.currentTimeMillis();
      Thread.sleep(3 * LiveHeapPlugin.SAMPLE_MILLIS);
      long heldUntil = System.currentTimeMillis();
      Reference.reachabilityFence(held);
      held = null;
      Thread.sleep(3 * LiveHeapPlugin.SAMPLE_MILLIS);
      long to = System.currentTimeMillis();

      LiveHeapPlugin.Peak whileHeld = LiveHeapPlugin.peaks(from, heldUntil).get(LiveHeapPlugin.DRIVER);
      LiveHeapPlugin.Peak afterwards = LiveHeapPlugin.peaks(heldUntil + LiveHeapPlugin.SAMPLE_MILLIS, to)
          .get(LiveHeapPlugin.DRIVER);
      assertTrue(whileHeld != null && whileHeld.maxLiveBytes() >= HELD_BYTES, "while held: " + whileHeld);
      assertTrue(afterwards != null && afterwards.maxLiveBytes() < whileHeld.maxLiveBytes() - HELD_BYTES / 2,
          "after the array was dropped: " + afterwards + " vs " + whileHeld);
    } finally {
      driver.shutdown();
    }
  }
}
