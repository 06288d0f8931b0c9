package io.sparkquant.jobs.output;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputDirTest {

  @TempDir Path tmp;
  private final Configuration conf = new Configuration();

  @Test
  void nothingAppearsUntilCommit() throws Exception {
    Path target = tmp.resolve("out");
    try (OutputDir out = OutputDir.create(conf, target.toString(), false)) {
      out.writeBytes("model.bin", new byte[] {1, 2, 3});
      out.writeJson("metrics.json", Map.of("accuracy", 0.5));
      assertFalse(Files.exists(target), "visible before commit");
      out.commit();
    }
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target.resolve("model.bin")));
    assertTrue(Files.readString(target.resolve("metrics.json")).contains("\"accuracy\" : 0.5"));
    assertEquals(1, entries(), "temporary directory left behind");
    try (Stream<Path> s = Files.list(target)) {
      // Hadoop's local file system would add .model.bin.crc and .metrics.json.crc
      assertEquals(List.of("metrics.json", "model.bin"), s.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void failureBeforeCommitLeavesNothing() throws Exception {
    Path target = tmp.resolve("out");
    assertThrows(IllegalStateException.class, () -> {
      try (OutputDir out = OutputDir.create(conf, target.toString(), false)) {
        out.writeBytes("half.bin", new byte[] {1});
        throw new IllegalStateException("job failed");
      }
    });
    assertFalse(Files.exists(target));
    assertEquals(0, entries(), "temporary directory left behind");
  }

  @Test
  void existingOutputNeedsOverwriteAndIsThenReplaced() throws Exception {
    Path target = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(target.resolve("old.txt"), "old", StandardCharsets.UTF_8);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> OutputDir.create(conf, target.toString(), false));
    assertTrue(e.getMessage().contains(target.getFileName().toString()) && e.getMessage().contains("--overwrite"),
        e.getMessage());
    try (OutputDir out = OutputDir.create(conf, target.toString(), true)) {
      out.writeBytes("new.txt", "new".getBytes(StandardCharsets.UTF_8));
      out.commit();
    }
    assertFalse(Files.exists(target.resolve("old.txt")));
    assertEquals("new", Files.readString(target.resolve("new.txt")));
    assertEquals(1, entries());
  }

  @Test
  void aFileIsNeverReplaced() throws Exception {
    Path file = Files.writeString(tmp.resolve("file"), "x");
    assertThrows(IllegalArgumentException.class, () -> OutputDir.checkWritable(conf, file.toString(), true));
  }

  private long entries() throws Exception {
    try (Stream<Path> s = Files.list(tmp)) {
      return s.count();
    }
  }
}
