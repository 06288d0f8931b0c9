package io.sparkquant.ops.interp;

import io.sparkquant.ops.tflite.TensorType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files (format 1.0 written; 1.0-3.0 read) for {@link TensorValue}s: little-endian
 * {@code '<f4'} (FLOAT32), {@code '|i1'} (INT8), {@code '<i2'} (INT16), {@code '<i4'} (INT32), C order.
 */
public final class NpyFile {

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
  private static final String SUPPORTED = "'<f4' (float32), '|i1' (int8), '<i2' (int16), '<i4' (int32)";

  private NpyFile() {}

  public static String descr(TensorType type) {
    return switch (type) {
      case FLOAT32 -> "<f4";
      case INT8 -> "|i1";
      case INT16 -> "<i2";
      case INT32 -> "<i4";
      default -> throw new IllegalArgumentException("no .npy dtype for tensor type " + type + "; supported: "
          + SUPPORTED);
    };
  }

  private static TensorType typeOf(String descr, String file) throws IOException {
    return switch (descr) {
      case "<f4" -> TensorType.FLOAT32;
      case "|i1", "<i1", "i1" -> TensorType.INT8;
      case "<i2" -> TensorType.INT16;
      case "<i4" -> TensorType.INT32;
      default -> throw new IOException(file + ": unsupported .npy dtype '" + printable(descr) + "'; supported: "
          + SUPPORTED);
    };
  }

  /** Reads a .npy file; throws IOException naming the file and what is wrong for corrupt or unsupported files. */
  public static TensorValue read(Path file) throws IOException {
    return fromBytes(Files.readAllBytes(file), file.toString());
  }

  /**
   * Parses the contents of a .npy file read from anywhere (e.g. a Hadoop file system).
   *
   * @param file where the bytes came from, for messages
   */
  public static TensorValue fromBytes(byte[] bytes, String file) throws IOException {
    ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 10) {
      throw new IOException(file + ": not a .npy file (" + bytes.length + " bytes, shorter than the header)");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (bytes[i] != MAGIC[i]) {
        throw new IOException(file + ": not a .npy file (missing the \\x93NUMPY magic)");
      }
    }
    int major = bytes[6];
    int headerLen;
    int headerStart;
    if (major == 1) {
      headerLen = Short.toUnsignedInt(bb.getShort(8));
      headerStart = 10;
    } else if (major == 2 || major == 3) {
      if (bytes.length < 12) {
        throw new IOException(file + ": truncated .npy header");
      }
      headerLen = bb.getInt(8);
      headerStart = 12;
    } else {
      throw new IOException(file + ": unsupported .npy format version " + major + "." + bytes[7]
          + "; supported: 1.0, 2.0, 3.0");
    }
    if (headerLen < 0 || (long) headerStart + headerLen > bytes.length) { // long: the sum may wrap
      throw new IOException(file + ": truncated .npy header (declares " + headerLen + " bytes)");
    }
    String header = new String(bytes, headerStart, headerLen,
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) {
      throw new IOException(file + ": corrupt .npy header (needs 'descr', 'fortran_order' and 'shape'): "
          + printable(header.trim()));
    }
    if (f.group(1).equals("True")) {
      throw new IOException(file + ": Fortran-order arrays are not supported; save a C-order array "
          + "(numpy.ascontiguousarray)");
    }
    TensorType type = typeOf(d.group(1), file);
    int[] shape = parseShape(s.group(1), file);
    long n = 1;
    for (int dim : shape) {
      n *= dim;
      if (n > Integer.MAX_VALUE - 8) { // the largest Java array; a longer product would also wrap
        throw new IOException(file + ": shape " + java.util.Arrays.toString(shape) + " has more than "
            + (Integer.MAX_VALUE - 8) + " elements");
      }
    }
    int dataStart = headerStart + headerLen;
    long expected = n * type.elementBytes();
    if (bytes.length - dataStart != expected) {
      throw new IOException(file + ": shape " + java.util.Arrays.toString(shape) + " of " + d.group(1) + " needs "
          + expected + " data bytes, file has " + (bytes.length - dataStart));
    }
    ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, (int) expected).slice().order(ByteOrder.LITTLE_ENDIAN);
    Object array = TensorValue.allocate(type, (int) n);
    switch (type) {
      case FLOAT32 -> data.asFloatBuffer().get((float[]) array);
      case INT8 -> data.get((byte[]) array);
      case INT16 -> data.asShortBuffer().get((short[]) array);
      default -> data.asIntBuffer().get((int[]) array);
    }
    return new TensorValue(type, shape, array);
  }

  /** The header as one line of at most 200 printable characters, for messages (the file may hold anything). */
  private static String printable(String header) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < header.length() && sb.length() < 200; i++) {
      char c = header.charAt(i);
      sb.append(c >= 32 && c < 127 ? c : '?');
    }
    return sb.length() < header.length() ? sb + "..." : sb.toString();
  }

  private static int[] parseShape(String inner, String file) throws IOException {
    List<Integer> dims = new ArrayList<>();
    for (String part : inner.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      try {
        long v = Long.parseLong(p.endsWith("L") ? p.substring(0, p.length() - 1) : p);
        if (v < 0 || v > Integer.MAX_VALUE) {
          throw new NumberFormatException();
        }
        dims.add((int) v);
      } catch (NumberFormatException e) {
        throw new IOException(file + ": corrupt .npy shape (" + printable(inner) + ")", e);
      }
    }
    return dims.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Writes format 1.0 atomically (a temporary file in the same directory, then a rename). */
  public static void write(Path file, TensorValue tensor) throws IOException {
    byte[] bytes = toBytes(tensor);
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      Files.write(tmp, bytes);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** The complete .npy (format 1.0) file contents for a tensor. */
  public static byte[] toBytes(TensorValue tensor) {
    String descr = descr(tensor.type());
    int[] shape = tensor.shape();
    StringBuilder sh = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      sh.append(shape[i]).append(shape.length == 1 ? "," : (i + 1 < shape.length ? ", " : ""));
    }
    sh.append(")");
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + sh + ", }";
    int unpadded = 10 + dict.length() + 1;
    int padded = (unpadded + 63) / 64 * 64; // numpy aligns the data to 64 bytes
    String header = dict + " ".repeat(padded - unpadded) + "\n";
    int n = tensor.elementCount();
    ByteBuffer bb = ByteBuffer.allocate(10 + header.length() + n * tensor.type().elementBytes())
        .order(ByteOrder.LITTLE_ENDIAN);
    bb.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    bb.put(header.getBytes(StandardCharsets.ISO_8859_1));
    switch (tensor.type()) {
      case FLOAT32 -> {
        for (float v : tensor.floats()) {
          bb.putFloat(v);
        }
      }
      case INT8 -> bb.put(tensor.int8s());
      case INT16 -> {
        for (short v : tensor.int16s()) {
          bb.putShort(v);
        }
      }
      default -> {
        for (int v : tensor.int32s()) {
          bb.putInt(v);
        }
      }
    }
    return bb.array();
  }
}
