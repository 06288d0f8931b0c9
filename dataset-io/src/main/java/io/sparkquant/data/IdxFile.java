package io.sparkquant.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * The IDX format of MNIST and Fashion-MNIST: magic {@code 0x00 0x00 type dims}, then each dimension as a
 * big-endian int32, then the data. Only unsigned bytes (type 0x08) are supported. Files may be gzipped
 * (detected by the gzip magic bytes, not the name).
 */
public final class IdxFile {

  /** Magic of an image file: unsigned bytes, 3 dimensions (count, rows, columns). */
  public static final int IMAGES_MAGIC = 0x00000803;
  /** Magic of a label file: unsigned bytes, 1 dimension (count). */
  public static final int LABELS_MAGIC = 0x00000801;

  private static final int UNSIGNED_BYTE = 0x08;

  /** A parsed header: the magic number and the dimensions; the data follows it. */
  public record Header(int magic, int[] dims) {
    public Header {
      dims = dims.clone();
    }

    @Override
    public int[] dims() {
      return dims.clone();
    }

    /** Number of records: the first dimension. */
    public int count() {
      return dims[0];
    }

    /** Bytes per record: the product of the dimensions after the first. */
    public int recordBytes() {
      int n = 1;
      for (int i = 1; i < dims.length; i++) {
        n *= dims[i];
      }
      return n;
    }

    /** Bytes before the data. */
    public int headerBytes() {
      return 4 + 4 * dims.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Header h && h.magic == magic && Arrays.equals(h.dims, dims);
    }

    @Override
    public int hashCode() {
      return 31 * magic + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
      return String.format("IDX[magic=0x%08x, dims=%s]", magic, Arrays.toString(dims));
    }
  }

  /** The records of a whole file: header and data bytes. */
  public record Contents(Header header, byte[] data) {}

  private IdxFile() {}

  /** Wraps {@code raw} in a gunzip stream when it starts with the gzip magic bytes 0x1f 0x8b. */
  public static InputStream decompressIfGzipped(InputStream raw) throws IOException {
    BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    if (b0 == 0x1f && b1 == 0x8b) {
      return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
    }
    return in;
  }

  /**
   * Reads and checks a header: the expected magic (so also the element type and rank) and positive dimensions.
   *
   * @param file named in errors
   */
  public static Header readHeader(InputStream in, int expectedMagic, String file) throws IOException {
    DataInputStream data = new DataInputStream(in);
    int magic;
    try {
      magic = data.readInt();
    } catch (EOFException e) {
      throw new InvalidDatasetException(file, null, "IDX file " + file + " is shorter than its 4-byte magic", e);
    }
    if (magic != expectedMagic) {
      throw new InvalidDatasetException(file, null, String.format("IDX file %s has magic 0x%08x, expected 0x%08x"
          + " (%s); valid IDX files start with 0x0000 then type 0x08 (unsigned byte) then the number of dimensions",
          file, magic, expectedMagic, expectedMagic == IMAGES_MAGIC ? "images" : "labels"));
    }
    if (((magic >>> 8) & 0xff) != UNSIGNED_BYTE) {
      throw new IllegalArgumentException("only unsigned-byte IDX files are supported");
    }
    int[] dims = new int[magic & 0xff];
    for (int i = 0; i < dims.length; i++) {
      try {
        dims[i] = data.readInt();
      } catch (EOFException e) {
        throw new InvalidDatasetException(file, null, "IDX file " + file + " ends inside its header (dimension "
            + i + " of " + dims.length + ")", e);
      }
      if (dims[i] <= 0 || (i > 0 && dims[i] > 1 << 16)) {
        throw new InvalidDatasetException(file, null, "IDX file " + file + " has dimension " + i + " = " + dims[i]
            + "; expected a positive size" + (i > 0 ? " of at most 65536" : ""));
      }
    }
    return new Header(magic, dims);
  }

  /** Reads a whole local IDX file (gzipped or not), checking the magic and that the data is complete. */
  public static Contents read(Path file, int expectedMagic) throws IOException {
    try (InputStream in = decompressIfGzipped(Files.newInputStream(file))) {
      Header header = readHeader(in, expectedMagic, file.toString());
      long size = (long) header.count() * header.recordBytes();
      if (size > Integer.MAX_VALUE - 16) {
        throw new InvalidDatasetException(file.toString(), null, "IDX file " + file + " holds " + size
            + " bytes of data, too large to read into memory");
      }
      byte[] bytes = new byte[(int) size];
      int n = in.readNBytes(bytes, 0, bytes.length);
      if (n != bytes.length) {
        throw new InvalidDatasetException(file.toString(), null, "IDX file " + file + " is truncated: header "
            + header + " promises " + bytes.length + " data bytes, found " + n);
      }
      return new Contents(header, bytes);
    }
  }

  /** Writes an uncompressed IDX file of unsigned bytes to {@code out}. */
  public static void write(OutputStream out, int[] dims, byte[] data) throws IOException {
    long expected = 1;
    for (int d : dims) {
      expected *= d;
    }
    if (expected != data.length) {
      throw new IllegalArgumentException("dims " + Arrays.toString(dims) + " need " + expected + " bytes, got "
          + data.length);
    }
    ByteBuffer header = ByteBuffer.allocate(4 + 4 * dims.length);
    header.putInt((UNSIGNED_BYTE << 8) | dims.length);
    for (int d : dims) {
      header.putInt(d);
    }
    out.write(header.array());
    out.write(data);
  }
}
