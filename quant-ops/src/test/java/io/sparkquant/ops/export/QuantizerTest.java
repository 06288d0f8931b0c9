package io.sparkquant.ops.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.compare.LayerSensitivity;
import io.sparkquant.ops.graph.TestModels;
import io.sparkquant.ops.tflite.TfliteFlatbuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The quantizer is the exporter plus the card and the keep-float choice: its bytes are exactly what
 * {@link TfliteExporter} writes for the same options (so exported files do not change), and keep-float keeps the
 * top-ranked layers.
 */
class QuantizerTest {

  private static final KeepFloatExportTest.Exported CHAIN = KeepFloatExportTest.models().get(0);

  private static Iterator<Quantizer.InputBatch> rows() {
    List<Quantizer.InputBatch> batches = new ArrayList<>();
    for (int b = 0; b < 3; b++) {
      batches.add(new Quantizer.InputBatch(TestModels.randomInput(CHAIN.graph(), 8, 200 + b), 8));
    }
    return batches.iterator();
  }

  @Test
  void bytesAreTheExportersAndTheCardDescribesThem() {
    for (ExportMode mode : ExportMode.values()) {
      Quantizer.Result r = Quantizer.quantize(CHAIN.graph(), CHAIN.ranges(),
          new Quantizer.Config(mode, null, Set.of(), 0, "ab12", "1.2.3"), null, Map.of("sourceModel", "m.zip"));
      ExportOptions options = new ExportOptions(mode, ExportOptions.IoType.FLOAT,
          mode.needsRanges() ? CHAIN.ranges() : null, "ab12", "1.2.3");
      assertArrayEquals(TfliteFlatbuffer.write(TfliteExporter.export(CHAIN.graph(), options)), r.tflite(),
          mode.cliName());
      int float32 = TfliteFlatbuffer.write(TfliteExporter.export(CHAIN.graph(), ExportOptions.of(ExportMode.FLOAT32)))
          .length;
      assertEquals(mode == ExportMode.FLOAT32 ? r.tflite().length : float32, r.float32SizeBytes(), mode.cliName());
      assertEquals(mode.cliName(), r.card().get("mode"));
      assertEquals((long) r.tflite().length, r.card().get("fileSizeBytes"));
      assertEquals("m.zip", r.card().get("sourceModel"));
      assertEquals(List.of(), r.card().get("floatNodes"));
      assertNull(r.ranking());
    }
  }

  @Test
  void keepFloatKeepsTheTopRankedLayers() {
    Quantizer.Config two = new Quantizer.Config(ExportMode.INT8, ExportOptions.IoType.INT8, Set.of(), 2, null, null);
    Quantizer.Result r = Quantizer.quantize(CHAIN.graph(), CHAIN.ranges(), two, rows(), Map.of());
    List<String> top = r.ranking().stream().limit(2).map(LayerSensitivity.Ranked::node).toList();
    assertEquals(new TreeSet<>(top), r.options().floatNodes());
    assertEquals(List.copyOf(new TreeSet<>(top)), r.card().get("floatNodes"));
    assertEquals(r.ranking(), r.card().get("layerSensitivity"));
    // The same as naming those layers explicitly.
    Quantizer.Result named = Quantizer.quantize(CHAIN.graph(), CHAIN.ranges(),
        new Quantizer.Config(ExportMode.INT8, ExportOptions.IoType.INT8, Set.copyOf(top), 0, null, null), null,
        Map.of());
    assertArrayEquals(named.tflite(), r.tflite());

    int layers = r.ranking().size();
    Quantizer.Config tooMany = new Quantizer.Config(ExportMode.INT8, null, Set.of(), layers + 1, null, null);
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> Quantizer.quantize(CHAIN.graph(), CHAIN.ranges(), tooMany, rows(), Map.of())).getMessage()
        .contains("exceeds the " + layers + " weight layers"));
    assertThrows(IllegalArgumentException.class,
        () -> Quantizer.quantize(CHAIN.graph(), CHAIN.ranges(), two, null, Map.of()));
  }

  @Test
  void configRejectsWhatTheModeCannotDo() {
    assertThrows(IllegalArgumentException.class,
        () -> new Quantizer.Config(ExportMode.FLOAT16, null, Set.of("conv1"), 0, null, null));
    assertThrows(IllegalArgumentException.class,
        () -> new Quantizer.Config(ExportMode.DYNAMIC_RANGE, null, Set.of(), 1, null, null));
    assertThrows(IllegalArgumentException.class,
        () -> new Quantizer.Config(ExportMode.INT8, null, Set.of("conv1"), 1, null, null));
    assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(CHAIN.graph(), null,
        new Quantizer.Config(ExportMode.INT16X8, null, Set.of(), 0, null, null), null, Map.of()));
  }
}
