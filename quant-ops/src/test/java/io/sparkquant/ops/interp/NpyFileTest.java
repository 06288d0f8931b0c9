package io.sparkquant.ops.interp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.tflite.TensorType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyFileTest {

  @TempDir Path dir;

  @Test
  void roundTripsEverySupportedDtype() throws IOException {
    TensorValue[] tensors = {
        TensorValue.ofFloat(new int[] {2, 3}, new float[] {1.5f, -2f, 0f, Float.MIN_VALUE, 1e30f, -0f}),
        TensorValue.ofInt8(new int[] {4}, new byte[] {-128, -1, 0, 127}),
        TensorValue.ofInt16(new int[] {1, 2, 2}, new short[] {-32768, 1, -1, 32767}),
        TensorValue.ofInt32(new int[] {}, new int[] {Integer.MIN_VALUE}),
    };
    for (TensorValue t : tensors) {
      Path f = dir.resolve(t.type() + ".npy");
      NpyFile.write(f, t);
      assertEquals(0, (Files.size(f) - t.elementCount() * t.type().elementBytes()) % 64, "64-byte aligned data");
      TensorValue back = NpyFile.read(f);
      assertEquals(t.type(), back.type());
      assertArrayEquals(t.shape(), back.shape());
      assertTrue(Arrays.deepEquals(new Object[] {t.data()}, new Object[] {back.data()}));
    }
  }

  /** A file laid out as numpy.save writes it (header text as numpy 1.x/2.x emits). */
  @Test
  void readsNumpyLayout() throws IOException {
    String dict = "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }";
    String header = dict + " ".repeat(128 - 10 - dict.length() - 1) + "\n";
    ByteBuffer bb = ByteBuffer.allocate(128 + 6).order(ByteOrder.LITTLE_ENDIAN);
    bb.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
    bb.put(header.getBytes(StandardCharsets.US_ASCII)).putShort((short) 7).putShort((short) -8).putShort((short) 9);
    Path f = dir.resolve("np.npy");
    Files.write(f, bb.array());
    TensorValue t = NpyFile.read(f);
    assertEquals(TensorType.INT16, t.type());
    assertArrayEquals(new int[] {3}, t.shape());
    assertArrayEquals(new short[] {7, -8, 9}, t.int16s());
  }

  @Test
  void rejectsCorruptAndUnsupportedFilesNamingTheFile() throws IOException {
    Path good = dir.resolve("good.npy");
    NpyFile.write(good, TensorValue.ofFloat(new int[] {2, 2}, new float[4]));
    byte[] bytes = Files.readAllBytes(good);

    Path truncated = dir.resolve("truncated.npy");
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 3));
    IOException e = assertThrows(IOException.class, () -> NpyFile.read(truncated));
    assertTrue(e.getMessage().contains("truncated.npy") && e.getMessage().contains("16 data bytes"), e.getMessage());

    Path noMagic = dir.resolve("nomagic.npy");
    Files.write(noMagic, "hello world, not numpy".getBytes(StandardCharsets.US_ASCII));
    assertTrue(assertThrows(IOException.class, () -> NpyFile.read(noMagic)).getMessage().contains("magic"));

    Path f8 = dir.resolve("f8.npy");
    Files.write(f8, new String(bytes, StandardCharsets.ISO_8859_1).replace("<f4", "<f8")
        .getBytes(StandardCharsets.ISO_8859_1));
    assertTrue(assertThrows(IOException.class, () -> NpyFile.read(f8)).getMessage().contains("'<f8'"));

    Path fortran = dir.resolve("fortran.npy");
    Files.write(fortran, new String(bytes, StandardCharsets.ISO_8859_1).replace("False", "True ")
        .getBytes(StandardCharsets.ISO_8859_1));
    assertTrue(assertThrows(IOException.class, () -> NpyFile.read(fortran)).getMessage().contains("Fortran"));
  }
}
