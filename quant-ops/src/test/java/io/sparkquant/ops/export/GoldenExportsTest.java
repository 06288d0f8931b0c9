package io.sparkquant.ops.export;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.tflite.TfliteWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The exporter's output is pinned byte for byte: the SHA-256 of every test model in every mode (and with nodes
 * kept in float) must equal the hashes recorded in {@code golden-exports.txt}. A refactoring must not change a
 * single byte; a deliberate format change records new hashes with
 * {@code mvn -pl quant-ops test -Dtest=GoldenExportsTest -Dsparkquant.golden.write=/tmp/golden-exports.txt}
 * and explains the change in its commit.
 */
class GoldenExportsTest {

  private static final String RESOURCE = "golden-exports.txt";

  @Test
  void exportsAreByteIdenticalToTheRecordedOnes() throws IOException {
    Map<String, String> actual = new LinkedHashMap<>();
    for (TfliteExporterTest.Case c : TfliteExporterTest.cases()) {
      ActivationRanges ranges = TfliteExporterTest.ranges(c);
      Map<String, ExportOptions> modes = new LinkedHashMap<>();
      modes.put("float32", ExportOptions.of(ExportMode.FLOAT32));
      modes.put("float16", ExportOptions.of(ExportMode.FLOAT16));
      modes.put("dynamic", ExportOptions.of(ExportMode.DYNAMIC_RANGE));
      modes.put("int8", ExportOptions.int8(ranges, ExportOptions.IoType.FLOAT).withProvenance("abc123", "0.1.0"));
      modes.put("int8-io", ExportOptions.int8(ranges, ExportOptions.IoType.INT8));
      modes.put("int16x8", new ExportOptions(ExportMode.INT16X8, null, ranges, null, null));
      if (!c.name().equals("mlp")) {
        modes.put("int8-keep-float", ExportOptions.int8(ranges, ExportOptions.IoType.FLOAT)
            .withFloatNodes(KeepFloatExportTest.kept(c.graph())));
      }
      for (var m : modes.entrySet()) {
        actual.put(c.name() + " " + m.getKey(), sha256(TfliteWriter.write(TfliteExporter.export(c.graph(),
            m.getValue()))));
      }
    }
    StringBuilder text = new StringBuilder();
    actual.forEach((k, v) -> text.append(k).append(' ').append(v).append('\n'));
    String write = System.getProperty("sparkquant.golden.write");
    if (write != null) {
      Files.writeString(Path.of(write), text);
    }
    assertEquals(recorded(), text.toString(), "exported bytes changed (see the class comment)");
  }

  private static String recorded() throws IOException {
    try (InputStream in = GoldenExportsTest.class.getResourceAsStream(RESOURCE)) {
      return in == null ? "(no " + RESOURCE + ")" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
