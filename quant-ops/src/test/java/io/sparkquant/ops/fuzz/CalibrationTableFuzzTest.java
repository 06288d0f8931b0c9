package io.sparkquant.ops.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparkquant.ops.calib.CalibrationTable;
import java.nio.charset.StandardCharsets;

/** {@code quantize --calibration}: a table is parsed or refused with an IllegalArgumentException on one line. */
class CalibrationTableFuzzTest {

  @FuzzTest(maxDuration = "10s")
  void fromJson(byte[] bytes) {
    try {
      CalibrationTable.fromJson(new String(bytes, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      FuzzChecks.assertOneLine(e);
    }
  }
}
