package io.sparkquant.ops.calib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.numerics.QuantParams;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CalibrationTableTest {

  private static final long SEED = 7L;

  /** Pass 1 and pass 2 over three tensors: two-sided, ReLU, all-zero. */
  private static ModelStats<MinMaxStats> minMax;
  private static ModelStats<HistogramStats> histograms;

  static {
    Random rnd = new Random(SEED);
    float[] conv = TestData.gaussian(rnd, 20_000, 0.3, 2);
    float[] relu = new float[20_000];
    for (int i = 0; i < relu.length; i++) {
      relu[i] = Math.max(0f, conv[i]);
    }
    float[] zeros = new float[500];
    minMax = ModelStats.empty();
    minMax.add("conv1", MinMaxStats.empty().addAll(conv));
    minMax.add("relu1", MinMaxStats.empty().addAll(relu));
    minMax.add("zeros", MinMaxStats.empty().addAll(zeros));
    histograms = ModelStats.empty();
    histograms.add("conv1", hist("conv1", conv));
    histograms.add("relu1", hist("relu1", relu));
    histograms.add("zeros", hist("zeros", zeros));
  }

  private static HistogramStats hist(String tensor, float[] values) {
    return HistogramStats.empty(BinLayout.forRange(minMax.get(tensor), BinLayout.DEFAULT_TARGET_BINS)).addAll(values);
  }

  @Test
  void tableHoldsStatisticsRangeAndQuantParams() {
    CalibrationTable table = CalibrationTable.compute(RangeMethod.percentile(99.9), minMax, histograms);
    assertEquals(List.of("conv1", "relu1", "zeros"), List.copyOf(table.tensors().keySet()));
    for (TensorCalibration t : table.tensors().values()) {
      MinMaxStats s = minMax.get(t.tensor());
      assertEquals(s.count(), t.count());
      assertEquals(s.min(), t.min());
      assertEquals(s.max(), t.max());
      assertEquals("percentile", t.method());
      assertEquals(QuantParams.int8Activation(t.range().min(), t.range().max()), t.params());
      assertEquals(s.count(), t.histogram().coarseCounts().stream().mapToLong(Long::longValue).sum());
    }
    assertEquals(new ClipRange(0f, 0f), table.tensor("zeros").range());
  }

  @Test
  void jsonRoundTripIsExactForEveryMethod() {
    for (RangeMethod method : new RangeMethod[] {
        RangeMethod.minMax(), RangeMethod.percentile(99.99), RangeMethod.entropy(), RangeMethod.mse()}) {
      CalibrationTable table = CalibrationTable.compute(method, minMax, method.needsHistogram() ? histograms : null);
      String json = table.toJson();
      CalibrationTable back = CalibrationTable.fromJson(json);
      assertEquals(table, back, method.name());
      assertEquals(json, back.toJson(), method.name());
      if (!method.needsHistogram()) {
        assertNull(back.tensor("conv1").histogram());
      }
    }
  }

  @Test
  void inputShapeIsRecordedOnlyWhenGivenAndRoundTrips() {
    CalibrationTable plain = CalibrationTable.compute(RangeMethod.minMax(), minMax, null);
    assertNull(plain.inputShape());
    assertFalse(plain.toJson().contains("inputShape"), "a table without a shape writes no field");
    assertNull(CalibrationTable.fromJson(plain.toJson()).inputShape());
    CalibrationTable shaped = plain.withInputShape(new int[] {28, 28, 1});
    CalibrationTable read = CalibrationTable.fromJson(shaped.toJson());
    assertArrayEquals(new int[] {28, 28, 1}, read.inputShape());
    assertEquals(shaped, read);
    assertNotEquals(plain, read);
    assertEquals(plain.ranges(), read.ranges());
    assertThrows(IllegalArgumentException.class, () -> plain.withInputShape(new int[] {28, 0, 1}));
    String bad = shaped.toJson().replaceFirst("\"inputShape\"\\s*:\\s*\\[[^\\]]*\\]", "\"inputShape\" : [28, -1]");
    assertTrue(bad.contains("[28, -1]"), bad);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> CalibrationTable.fromJson(bad)).getMessage()
        .contains("inputShape"));
  }

  @Test
  void inconsistentScaleIsRejected() {
    String json = CalibrationTable.compute(RangeMethod.minMax(), minMax, null).toJson();
    String scale = Float.toString(CalibrationTable.fromJson(json).tensor("conv1").scale());
    String edited = json.replaceFirst("\"scale\" : " + scale.replace(".", "\\."), "\"scale\" : 1.0");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CalibrationTable.fromJson(edited));
    assertTrue(e.getMessage().contains("conv1"), e.getMessage());
  }

  @Test
  void errorsNameTheTensorAndNoTableIsBuilt() {
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> CalibrationTable.compute(RangeMethod.minMax(), ModelStats.empty(), null)).getMessage()
        .contains("empty calibration statistics"));

    ModelStats<MinMaxStats> withNan = minMax.copy();
    withNan.add("relu1", MinMaxStats.empty().add(Float.NaN));
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> CalibrationTable.compute(RangeMethod.minMax(), withNan, null));
    assertTrue(nan.getMessage().contains("'relu1' has 1 NaN/Inf"), nan.getMessage());

    assertThrows(IllegalArgumentException.class, () -> CalibrationTable.compute(RangeMethod.entropy(), minMax, null));

    ModelStats<HistogramStats> drifted = histograms.copy();
    drifted.add("conv1", HistogramStats.empty(histograms.get("conv1").layout()).add(1e6f));
    IllegalArgumentException drift = assertThrows(IllegalArgumentException.class,
        () -> CalibrationTable.compute(RangeMethod.mse(), minMax, drifted));
    assertTrue(drift.getMessage().contains("'conv1'") && drift.getMessage().contains("1 outside"),
        drift.getMessage());
  }
}
