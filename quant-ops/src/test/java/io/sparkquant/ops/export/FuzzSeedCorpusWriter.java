package io.sparkquant.ops.export;

import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.calib.ModelStats;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.interp.NpyFile;
import io.sparkquant.ops.interp.TensorValue;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Writes the seed corpus of the fuzz tests (io.sparkquant.ops.fuzz): every export mode of the exporter's test
 * models, a few .npy files and calibration tables. Run only on demand, from quant-ops:
 * {@code mvn -o -q test -Dtest=FuzzSeedCorpusWriter -Dsparkquant.fuzz.writeSeeds=src/test/resources/io/sparkquant/ops/fuzz}.
 */
class FuzzSeedCorpusWriter {

  @Test
  @EnabledIfSystemProperty(named = "sparkquant.fuzz.writeSeeds", matches = ".+")
  void writeSeeds() throws IOException {
    Path root = Path.of(System.getProperty("sparkquant.fuzz.writeSeeds"));
    Path models = Files.createDirectories(root.resolve("ModelFuzzTestInputs/readVerifyRun"));
    for (TfliteExporterTest.Case c : TfliteExporterTest.cases()) {
      for (ExportMode mode : ExportMode.values()) {
        ExportOptions options = mode.needsRanges()
            ? new ExportOptions(mode, ExportOptions.IoType.FLOAT, TfliteExporterTest.ranges(c), null, "seed")
            : new ExportOptions(mode, ExportOptions.IoType.FLOAT, null, null, "seed");
        write(models.resolve(c.name() + "-" + mode.cliName() + ".tflite"),
            TfliteWriter.write(TfliteExporter.export(c.graph(), options)));
      }
      write(models.resolve(c.name() + "-int8-io.tflite"), TfliteWriter.write(TfliteExporter.export(c.graph(),
          ExportOptions.int8(TfliteExporterTest.ranges(c), ExportOptions.IoType.INT8))));
    }

    Path npy = Files.createDirectories(root.resolve("NpyFileFuzzTestInputs/fromBytes"));
    Random rnd = new Random(7);
    float[] f = new float[6];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) rnd.nextGaussian();
    }
    write(npy.resolve("float32-2x3.npy"), NpyFile.toBytes(TensorValue.ofFloat(new int[] {2, 3}, f)));
    write(npy.resolve("int8-4.npy"), NpyFile.toBytes(TensorValue.ofInt8(new int[] {4}, new byte[] {-128, 0, 5, 127})));
    write(npy.resolve("int16-1x2x2.npy"),
        NpyFile.toBytes(TensorValue.ofInt16(new int[] {1, 2, 2}, new short[] {-32768, 1, 2, 32767})));
    write(npy.resolve("int32-scalar.npy"), NpyFile.toBytes(TensorValue.ofInt32(new int[] {}, new int[] {42})));

    Path tables = Files.createDirectories(root.resolve("CalibrationTableFuzzTestInputs/fromJson"));
    ModelStats<io.sparkquant.ops.calib.MinMaxStats> minMax = ModelStats.empty();
    minMax.add("input", io.sparkquant.ops.calib.MinMaxStats.empty().addAll(new float[] {0f, 0.5f, 1f}));
    minMax.add("conv1", io.sparkquant.ops.calib.MinMaxStats.empty().addAll(new float[] {-2.5f, 0.1f, 3.25f}));
    write(tables.resolve("minmax.json"),
        CalibrationTable.compute(RangeMethod.minMax(), minMax, null).toJson().getBytes(StandardCharsets.UTF_8));
  }

  private static void write(Path file, byte[] bytes) throws IOException {
    Files.write(file, bytes);
  }
}
