package io.sparkquant.jobs.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A .tflite and its card replace the previous pair as one unit: a failed commit leaves both previous files. */
class OutputFilesRollbackTest {

  @TempDir Path tmp;

  @Test
  void failedSecondRenameRestoresBothPreviousFiles() throws IOException {
    Path card = tmp.resolve("model.json");
    Path model = tmp.resolve("model.tflite");
    Files.writeString(card, "old card");
    Files.writeString(model, "old model");
    try (OutputFiles out = OutputFiles.create(new Configuration(), true)) {
      out.write(card.toString(), "new card".getBytes());
      out.write(model.toString(), "new model".getBytes());
      // The model's temporary disappears (as after a crash of its writer): its rename fails after the card's.
      try (Stream<Path> s = Files.list(tmp)) {
        for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".model.tflite.tmp-")).toList()) {
          Files.delete(p);
        }
      }
      assertThrows(UncheckedIOException.class, out::commit);
    }
    assertEquals("old card", Files.readString(card));
    assertEquals("old model", Files.readString(model));
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of("model.json", "model.tflite"), s.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void outputUnderAFileOrExistingIsRefusedNamingTheUsersPath() throws IOException {
    Path file = tmp.resolve("a-file");
    Files.writeString(file, "x");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> OutputFiles.checkWritable(new Configuration(), file + "/sub/t.json", false, "--out"));
    assertTrue(e.getMessage().startsWith("--out " + file + "/sub/t.json cannot be created: ")
        && e.getMessage().contains("is a file"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> OutputDir.checkWritable(new Configuration(), file + "/dir", false));
    assertTrue(e.getMessage().contains(file + "/dir") && e.getMessage().contains("is a file"), e.getMessage());
  }
}
