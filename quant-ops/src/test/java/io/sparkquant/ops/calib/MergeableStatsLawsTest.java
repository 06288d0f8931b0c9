package io.sparkquant.ops.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MergeableStatsLawsTest {

  private static final long SEED = 20261127L;

  private static JsonNode parse(String json) {
    try {
      return StatsJson.MAPPER.readTree(json);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void minMaxStatsObeyTheMergeLaws() {
    List<Float> values = TestData.gaussianWithSpecials(SEED, 2000, true);
    MergeLaws<Float, MinMaxStats> laws = new MergeLaws<>(MinMaxStats::empty, MinMaxStats::add,
        s -> s.toJson().toString(), j -> MinMaxStats.fromJson(parse(j)));
    MinMaxStats all = laws.check(values, SEED);
    assertEquals(2004, all.count());
    assertEquals(3, all.nonFiniteCount());
  }

  @Test
  void minMaxAddAllEqualsAddingOneValueAtATime() {
    for (boolean nonFinite : new boolean[] {false, true}) {
      List<Float> values = TestData.gaussianWithSpecials(SEED, 500, nonFinite);
      java.util.Collections.shuffle(values, new java.util.Random(SEED));
      float[] array = new float[values.size()];
      MinMaxStats oneByOne = MinMaxStats.empty();
      for (int i = 0; i < array.length; i++) {
        array[i] = values.get(i);
        oneByOne.add(array[i]);
      }
      // three blocks, so both the comparison loop and its non-finite fallback fold into earlier state
      MinMaxStats blocks = MinMaxStats.empty().addAll(FloatBuffer.wrap(array, 0, 100))
          .addAll(FloatBuffer.wrap(array, 100, 0)).addAll(FloatBuffer.wrap(array, 100, array.length - 100));
      assertEquals(oneByOne, blocks, "nonFinite " + nonFinite);
    }
  }

  @Test
  void minMaxOfSignedZerosDoesNotDependOnOrder() {
    assertEquals(MinMaxStats.empty().add(0.0f).add(-0.0f), MinMaxStats.empty().add(-0.0f).add(0.0f));
    assertEquals(0.0f, MinMaxStats.empty().add(0.0f).add(-0.0f).min(), "zero is kept as +0.0");
    assertEquals(MinMaxStats.empty().addAll(new float[] {-0.0f, 0.0f, 2f}),
        MinMaxStats.empty().addAll(new float[] {0.0f, -0.0f, 2f}));
    assertEquals(0.0f, MinMaxStats.empty().addAll(new float[] {-0.0f, 2f}).min());
  }

  @Test
  void emptyMinMaxIsTheIdentity() {
    MinMaxStats e = MinMaxStats.empty();
    assertEquals(Float.POSITIVE_INFINITY, e.min());
    assertEquals(Float.NEGATIVE_INFINITY, e.max());
    assertEquals(0, e.count());
  }

  @Test
  void histogramStatsObeyTheMergeLaws() {
    List<Float> values = TestData.gaussianWithSpecials(SEED + 1, 5000, true);
    MinMaxStats range = MinMaxStats.empty();
    values.forEach(range::add);
    BinLayout layout = BinLayout.forRange(range, 256);
    MergeLaws<Float, HistogramStats> laws = new MergeLaws<>(() -> HistogramStats.empty(layout),
        HistogramStats::add, s -> s.toJson().toString(), j -> HistogramStats.fromJson(parse(j)));
    HistogramStats all = laws.check(values, SEED);
    assertEquals(range.count(), all.count());
    assertEquals(0, all.outOfRangeCount());
    assertEquals(3, all.nonFiniteCount());
  }

  @Test
  void histogramCountsValuesOutsideItsLayoutSeparately() {
    BinLayout layout = BinLayout.forRange(-1f, 1f, 16);
    HistogramStats h = HistogramStats.empty(layout).add(-1f).add(1f).add(0f).add(1.5f);
    assertEquals(3, h.count());
    assertEquals(1, h.outOfRangeCount());
    assertEquals(1, h.binCount(0));
    assertEquals(1, h.binCount(layout.binCount() - 1));
    assertEquals(1, h.binCount(layout.negativeBins()), "0 is the lower edge of the first positive bin");
  }

  @Test
  void histogramsWithDifferentLayoutsDoNotMerge() {
    HistogramStats a = HistogramStats.empty(BinLayout.forRange(-1f, 1f, 16));
    HistogramStats b = HistogramStats.empty(BinLayout.forRange(-1f, 2f, 16));
    assertThrows(IllegalArgumentException.class, () -> a.merge(b));
  }

  @Test
  void layoutCoversTheRangeWithZeroOnAnEdge() {
    Random rnd = new Random(SEED);
    for (int trial = 0; trial < 10_000; trial++) {
      float a = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(12) - 6));
      float b = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(12) - 6));
      float min = Math.min(a, b);
      float max = Math.max(a, b);
      BinLayout layout = BinLayout.forRange(min, max, 2048);
      assertTrue(layout.contains(min) && layout.contains(max) && layout.contains(0f), layout + " " + min + " " + max);
      assertEquals(0.0, layout.edge(layout.negativeBins()));
      assertTrue(layout.binCount() == 2048 || layout.binCount() == 2049 || layout.binCount() == 2050,
          "bins: " + layout.binCount());
    }
  }

  private record Observation(String tensor, float value) {}

  @Test
  void modelStatsObeyTheMergeLaws() {
    Random rnd = new Random(SEED + 2);
    List<Observation> inputs = new ArrayList<>();
    String[] tensors = {"conv1", "dense/out", "input", "relu"};
    for (int i = 0; i < 3000; i++) {
      String t = tensors[rnd.nextInt(tensors.length)];
      float v = (float) rnd.nextGaussian();
      inputs.add(new Observation(t, t.equals("relu") ? Math.max(0f, v) : v));
    }
    inputs.add(new Observation("input", Float.NaN));
    MergeLaws<Observation, ModelStats<MinMaxStats>> laws = new MergeLaws<>(ModelStats::empty,
        (s, o) -> s.add(o.tensor(), MinMaxStats.empty().add(o.value())),
        s -> s.toJson().toString(), j -> ModelStats.fromJson(parse(j), MinMaxStats::fromJson));
    ModelStats<MinMaxStats> all = laws.check(inputs, SEED);
    assertEquals(List.of(tensors), new ArrayList<>(all.tensors().keySet()));
    assertEquals(1, all.get("input").nonFiniteCount());

    // The same with histograms laid out from pass 1.
    MergeLaws<Observation, ModelStats<HistogramStats>> histLaws = new MergeLaws<>(ModelStats::empty,
        (s, o) -> s.add(o.tensor(), HistogramStats.empty(BinLayout.forRange(all.get(o.tensor()), 64)).add(o.value())),
        s -> s.toJson().toString(), j -> ModelStats.fromJson(parse(j), HistogramStats::fromJson));
    ModelStats<HistogramStats> hist = histLaws.check(inputs, SEED);
    assertEquals(all.get("conv1").count(), hist.get("conv1").count());
  }

  @Test
  void jsonWithAnotherFormatVersionIsRejected() {
    String json = MinMaxStats.empty().add(1f).toJson().put("formatVersion", 99).toString();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MinMaxStats.fromJson(parse(json)));
    assertTrue(e.getMessage().contains("formatVersion"), e.getMessage());
  }
}
