package io.sparkquant.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LiteRtBenchTest {

  @Test
  void rowsFileHasTheHeaderBenchMjsReads(@TempDir Path dir) throws Exception {
    float[] rows = {0f, 0.5f, -1.25f, 3e-7f, 1f, 2f};
    Path file = dir.resolve("rows.bin");
    LiteRtBench.writeRows(file, rows, new int[] {1, 3, 1});
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    byte[] magic = new byte[4];
    b.get(magic);
    assertEquals("SQRW", new String(magic, java.nio.charset.StandardCharsets.US_ASCII));
    assertEquals(1, b.getInt()); // float32
    assertEquals(4, b.getInt()); // rank
    assertArrayEquals(new int[] {2, 1, 3, 1}, new int[] {b.getInt(), b.getInt(), b.getInt(), b.getInt()});
    float[] back = new float[rows.length];
    b.asFloatBuffer().get(back);
    assertArrayEquals(rows, back);
    assertEquals(12 + 16 + 4 * rows.length, Files.size(file));
    assertThrows(IllegalArgumentException.class, () -> LiteRtBench.writeRows(file, new float[5], new int[] {3}));
  }

  @Test
  void answerLineParsesIntoKeysAndAgreementCountsSameClasses() {
    Map<String, String> kv = LiteRtBench.parse(
        "litert model=int8 images=3 seconds=0.000500 images_per_s=6000.0 cpu_seconds=0.000600"
        + " images_per_cpu_s=5000.0 argmax=1,0,9");
    assertEquals("6000.0", kv.get("images_per_s"));
    assertEquals("5000.0", kv.get("images_per_cpu_s"));
    assertEquals("1,0,9", kv.get("argmax"));
    assertEquals("2/3 (66.67%)", BenchInterpreterCommand.agreement(new int[] {1, 0, 9}, new int[] {1, 0, 8}));
    assertEquals("not comparable (3 vs 2 rows)", BenchInterpreterCommand.agreement(new int[3], new int[2]));
  }
}
