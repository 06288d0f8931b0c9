package io.sparkquant.jobs.output;

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
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputFilesTest {

  @TempDir Path tmp;
  private final Configuration conf = new Configuration();

  @Test
  void filesAppearOnlyAtCommitWithoutChecksumFiles() throws Exception {
    Path table = tmp.resolve("sub/table.json");
    Path manifest = tmp.resolve("sub/table.manifest.json");
    try (OutputFiles out = OutputFiles.create(conf, false)) {
      out.writeJson(manifest.toString(), Map.of("rows", 3));
      out.write(table.toString(), "{}".getBytes(StandardCharsets.UTF_8));
      assertFalse(Files.exists(table), "visible before commit");
      assertFalse(Files.exists(manifest), "visible before commit");
      out.commit();
    }
    assertEquals("{}", Files.readString(table));
    assertTrue(Files.readString(manifest).contains("\"rows\" : 3"));
    // Hadoop's local file system would leave .table.json.crc beside the table
    assertEquals(List.of("table.json", "table.manifest.json"), names(table.getParent()));
    // and a file without its checksum still reads through Hadoop's checksumming local file system
    try (FSDataInputStream in = FileSystem.getLocal(conf).open(new org.apache.hadoop.fs.Path(table.toString()))) {
      assertEquals("{}", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void failureBeforeCommitLeavesNothing() throws Exception {
    Path file = tmp.resolve("model.tflite");
    assertThrows(IllegalStateException.class, () -> {
      try (OutputFiles out = OutputFiles.create(conf, false)) {
        out.write(file.toString(), new byte[] {1, 2});
        throw new IllegalStateException("job failed");
      }
    });
    assertEquals(List.of(), names(tmp));
  }

  @Test
  void anExistingFileNeedsOverwriteAndIsThenReplaced() throws Exception {
    Path file = Files.writeString(tmp.resolve("model.tflite"), "old");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> OutputFiles.checkWritable(conf, file.toString(), false, "--out"));
    assertTrue(e.getMessage().startsWith("--out " + file) && e.getMessage().contains("--overwrite"), e.getMessage());
    try (OutputFiles out = OutputFiles.create(conf, false)) {
      out.write(file.toString(), "new".getBytes(StandardCharsets.UTF_8));
      assertThrows(IllegalStateException.class, out::commit, "replaced without overwrite");
    }
    assertEquals("old", Files.readString(file));
    assertEquals(List.of("model.tflite"), names(tmp), "temporary file left behind");

    OutputFiles.checkWritable(conf, file.toString(), true, "--out");
    try (OutputFiles out = OutputFiles.create(conf, true)) {
      out.write(file.toString(), "new".getBytes(StandardCharsets.UTF_8));
      out.commit();
    }
    assertEquals("new", Files.readString(file));
    assertEquals(List.of("model.tflite"), names(tmp));
  }

  @Test
  void aStaleChecksumOfTheReplacedFileIsRemoved() throws Exception {
    // written through Hadoop's checksumming local file system, as outputs were before
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(tmp.resolve("table.json").toString());
    try (var out = FileSystem.getLocal(conf).create(file, false)) {
      out.write("old".getBytes(StandardCharsets.UTF_8));
    }
    assertEquals(List.of(".table.json.crc", "table.json"), names(tmp));
    try (OutputFiles out = OutputFiles.create(conf, true)) {
      out.write(file.toString(), "newer".getBytes(StandardCharsets.UTF_8));
      out.commit();
    }
    assertEquals(List.of("table.json"), names(tmp));
    try (FSDataInputStream in = FileSystem.getLocal(conf).open(file)) {
      assertEquals("newer", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void aDirectoryIsNeverAnOutputFile() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("out"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> OutputFiles.checkWritable(conf, dir.toString(), true, "--out"));
    assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
  }

  private static List<String> names(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
