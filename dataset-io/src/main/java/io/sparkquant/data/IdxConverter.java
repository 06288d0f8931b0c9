package io.sparkquant.data;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converts an MNIST-style IDX image file and label file into the tensor format: shape {@code [rows, cols, 1]},
 * pixels scaled to [0, 1] as {@code byte / 255f}, id = the record index in the files. Executors read their own
 * record ranges through Hadoop's FileSystem, so the paths must be readable from every executor.
 */
public final class IdxConverter {

  private static final Logger LOG = LoggerFactory.getLogger(IdxConverter.class);

  private IdxConverter() {}

  /**
   * Converts and writes atomically with {@link TensorDatasets#write}.
   *
   * @param classNames one per label value; every label must be below its size
   * @param partitions number of output files (capped at the record count)
   * @return the number of rows written
   * @throws InvalidDatasetException for a wrong magic number, bad dimensions, different record counts, a
   *     truncated file or a label outside the class names (naming the file and record)
   */
  public static long convert(SparkSession spark, String imagesPath, String labelsPath, String outDir,
      List<String> classNames, int partitions) {
    return convert(spark, imagesPath, labelsPath, outDir, classNames, partitions, false);
  }

  /** As {@link #convert(SparkSession, String, String, String, List, int)}; {@code overwrite} replaces outDir. */
  public static long convert(SparkSession spark, String imagesPath, String labelsPath, String outDir,
      List<String> classNames, int partitions, boolean overwrite) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
    }
    long start = System.nanoTime();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    IdxFile.Header images = header(imagesPath, IdxFile.IMAGES_MAGIC, conf);
    IdxFile.Header labels = header(labelsPath, IdxFile.LABELS_MAGIC, conf);
    if (images.count() != labels.count()) {
      throw new InvalidDatasetException(imagesPath, null, "IDX files disagree on the record count: " + imagesPath
          + " has " + images.count() + " images, " + labelsPath + " has " + labels.count() + " labels");
    }
    int[] dims = images.dims();
    DatasetInfo info = new DatasetInfo(new int[] {dims[1], dims[2], 1}, classNames);
    int count = images.count();
    int parts = Math.min(partitions, count);
    List<int[]> ranges = new ArrayList<>(parts);
    for (int p = 0; p < parts; p++) {
      ranges.add(new int[] {(int) ((long) count * p / parts), (int) ((long) count * (p + 1) / parts)});
    }
    JavaRDD<Row> rows = JavaSparkContext.fromSparkContext(spark.sparkContext())
        .parallelize(ranges, parts)
        .flatMap(new RangeReader(imagesPath, labelsPath, new SerializableConf(conf), info));
    StructType schema = new StructType()
        .add(TensorDatasets.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add(TensorDatasets.LABEL, DataTypes.IntegerType, false)
        .add(TensorDatasets.ID, DataTypes.LongType, false);
    Dataset<Row> df = spark.createDataFrame(rows, schema);
    Map<String, String> provenance = new TreeMap<>();
    provenance.put("converter", IdxConverter.class.getName());
    provenance.put("images", imagesPath);
    provenance.put("labels", labelsPath);
    provenance.put("pixelScaling", "unsigned byte / 255");
    provenance.put("id", "record index in the IDX files");
    long written = TensorDatasets.write(df, info, outDir, provenance, overwrite);
    LOG.info("Converted {} IDX records ({}x{}) to {} in {} ms", count, dims[1], dims[2], outDir,
        (System.nanoTime() - start) / 1_000_000);
    return written;
  }

  private static IdxFile.Header header(String file, int magic, Configuration conf) {
    Path path = new Path(file);
    try {
      FileSystem fs = path.getFileSystem(conf);
      if (!fs.exists(path)) {
        throw new InvalidDatasetException(file, null, "IDX file " + file + " does not exist");
      }
      IdxFile.Header header;
      try (InputStream in = IdxFile.decompressIfGzipped(fs.open(path))) {
        header = IdxFile.readHeader(in, magic, file);
      }
      if (magic == IdxFile.IMAGES_MAGIC && header.dims().length != 3) {
        throw new InvalidDatasetException(file, null, "IDX image file " + file + " has " + header.dims().length
            + " dimensions; expected 3 (count, rows, columns)");
      }
      if (!isGzip(fs, path)) {
        long expected = header.headerBytes() + (long) header.count() * header.recordBytes();
        long actual = fs.getFileStatus(path).getLen();
        if (actual != expected) {
          throw new InvalidDatasetException(file, null, "IDX file " + file + " has " + actual + " bytes; its header "
              + header + " needs exactly " + expected);
        }
      }
      return header;
    } catch (IOException e) {
      throw new InvalidDatasetException(file, null, "Cannot read IDX file " + file + ": " + e.getMessage(), e);
    }
  }

  private static boolean isGzip(FileSystem fs, Path path) throws IOException {
    try (InputStream in = fs.open(path)) {
      return in.read() == 0x1f && in.read() == 0x8b;
    }
  }

  /** Reads records [start, end) of both files on an executor, lazily. */
  private record RangeReader(String imagesPath, String labelsPath, SerializableConf conf, DatasetInfo info)
      implements FlatMapFunction<int[], Row> {

    @Override
    public Iterator<Row> call(int[] range) throws IOException {
      Configuration c = conf.get();
      Path images = new Path(imagesPath);
      Path labels = new Path(labelsPath);
      InputStream imagesIn = IdxFile.decompressIfGzipped(images.getFileSystem(c).open(images));
      InputStream labelsIn = IdxFile.decompressIfGzipped(labels.getFileSystem(c).open(labels));
      IdxFile.Header imageHeader = IdxFile.readHeader(imagesIn, IdxFile.IMAGES_MAGIC, imagesPath);
      IdxFile.readHeader(labelsIn, IdxFile.LABELS_MAGIC, labelsPath);
      int recordBytes = imageHeader.recordBytes();
      skip(imagesIn, (long) range[0] * recordBytes, imagesPath, range[0]);
      skip(labelsIn, range[0], labelsPath, range[0]);
      int numClasses = info.numClasses();
      return new Iterator<>() {
        private int next = range[0];
        private final byte[] pixels = new byte[recordBytes];

        @Override
        public boolean hasNext() {
          if (next < range[1]) {
            return true;
          }
          closeQuietly();
          return false;
        }

        @Override
        public Row next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          int n = read(imagesIn, pixels, imagesPath);
          if (n != recordBytes) {
            throw truncated(imagesPath, next, imageHeader.count());
          }
          byte[] label = new byte[1];
          if (read(labelsIn, label, labelsPath) != 1) {
            throw truncated(labelsPath, next, imageHeader.count());
          }
          int labelValue = label[0] & 0xff;
          if (labelValue >= numClasses) {
            closeQuietly();
            throw InvalidDatasetException.atRow(labelsPath, TensorDatasets.LABEL, "record " + next,
                RowChecks.labelRange(info) + " (one per class name)", Integer.toString(labelValue));
          }
          float[] features = new float[recordBytes];
          for (int i = 0; i < recordBytes; i++) {
            features[i] = (pixels[i] & 0xff) / 255f; // pixel bytes are unsigned
          }
          return RowFactory.create(features, labelValue, (long) next++);
        }

        private int read(InputStream in, byte[] into, String file) {
          try {
            return in.readNBytes(into, 0, into.length);
          } catch (IOException e) {
            closeQuietly();
            throw new InvalidDatasetException(file, null, "Cannot read record " + next + " of IDX file " + file
                + " (truncated or corrupt?): " + e, e);
          }
        }

        private void closeQuietly() {
          try {
            imagesIn.close();
            labelsIn.close();
          } catch (IOException e) {
            // read-only streams: nothing to lose
          }
        }
      };
    }

    private static void skip(InputStream in, long bytes, String file, int record) throws IOException {
      try {
        in.skipNBytes(bytes);
      } catch (java.io.EOFException e) {
        throw new InvalidDatasetException(file, null, "IDX file " + file + " is truncated before record " + record, e);
      }
    }

    private static InvalidDatasetException truncated(String file, int record, int count) {
      return new InvalidDatasetException(file, null, "IDX file " + file + " is truncated: record " + record
          + " is missing, the header promises " + count + " records");
    }
  }
}
