package io.sparkquant.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MachineScalingTest {

  @Test
  void onePairPerMeasurementWithARatioNearOneForASingleThread() {
    MachineScaling scaling = new MachineScaling();
    assertTrue(scaling.isEmpty());
    scaling.measure(1);
    scaling.measure(1);
    scaling.measure(1);
    // one thread against one thread: the same work, so the ratio is 1 up to this machine's noise
    assertTrue(scaling.median() > 0.5 && scaling.median() < 2, "median " + scaling.median());
    assertTrue(scaling.summary().endsWith(", 3 pairs)"), scaling.summary());
    assertEquals(scaling.median(), Double.parseDouble(scaling.summary().substring(0, 4)), 0.005);
  }
}
