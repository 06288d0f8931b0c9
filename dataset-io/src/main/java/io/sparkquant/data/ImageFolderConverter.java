package io.sparkquant.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Converts a folder of images, one sub-folder per class, into the tensor format. The driver lists the files (names
 * only, through Hadoop's FileSystem); executors read and decode them ({@link ImageDecoding}), so no pixel reaches
 * the driver.
 *
 * <ul>
 *   <li>classes: the sub-folder names in sorted order; label = index in that order;
 *   <li>files: PNG and JPEG ({@code .png, .jpg, .jpeg}, any case) anywhere under a class folder; names starting
 *       with '.' or '_' are skipped, as Spark skips them;
 *   <li>id: the index of the file's path relative to the input (e.g. {@code cat/0001.png}) in sorted order, so the
 *       same folder always gives the same ids;
 *   <li>shape: {@code --size} if given (every image resized to it), else the size all images share (mixed sizes
 *       are an error naming the first two files that differ); channels: as given, else 1 if every image is gray
 *       and 3 otherwise.
 * </ul>
 *
 * A first Spark pass reads only the image headers (size, gray or not), a second decodes and writes.
 */
public final class ImageFolderConverter {

  private static final Logger LOG = LoggerFactory.getLogger(ImageFolderConverter.class);
  private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg");

  /**
   * What to convert to.
   *
   * @param height target height, 0 = the images' own (all must agree)
   * @param width target width, 0 = the images' own
   * @param channels 1 or 3, 0 = 1 if every image is gray, else 3
   * @param partitions number of Spark partitions (output files), capped at the number of images
   */
  public record Options(int height, int width, int channels, int partitions) implements Serializable {
    public Options {
      if ((height == 0) != (width == 0) || height < 0 || width < 0) {
        throw new IllegalArgumentException("size must be two positive numbers HxW (or none), got " + height + "x"
            + width);
      }
      if (channels != 0 && channels != 1 && channels != 3) {
        throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
      }
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
      }
    }

    /** Parses {@code "HxW"}, e.g. {@code 28x28}. */
    public static int[] parseSize(String text) {
      String[] parts = text.trim().split("[xX]");
      try {
        if (parts.length == 2) {
          int h = Integer.parseInt(parts[0].trim());
          int w = Integer.parseInt(parts[1].trim());
          if (h > 0 && w > 0) {
            return new int[] {h, w};
          }
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException("size must be HxW with positive integers, e.g. 28x28, got '" + text + "'");
    }
  }

  /** One image to convert: its id, path, path relative to the input, and label. */
  record Entry(long id, String path, String relative, int label) implements Serializable {}

  private ImageFolderConverter() {}

  /**
   * Lists, checks, converts and writes atomically with {@link TensorDatasets#write}.
   *
   * @return the number of rows written
   * @throws InvalidDatasetException for a stray file at the top level, an empty class folder, a file that is no
   *     PNG/JPEG or cannot be decoded (named), or mixed sizes without a target size (the first two files named)
   */
  public static long convert(SparkSession spark, String inputDir, String outDir, Options options,
      boolean overwrite) {
    long start = System.nanoTime();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<String> classNames = new ArrayList<>();
    List<Entry> entries = list(inputDir, conf, classNames);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int parts = Math.min(options.partitions(), entries.size());
    SerializableConf shippedConf = new SerializableConf(conf);

    // Pass 1: headers only. Per distinct size, the smallest id that has it; and whether any image is in colour.
    JavaRDD<Entry> files = jsc.parallelize(entries, parts);
    Map<String, Long> firstIdBySize;
    try {
      firstIdBySize = new TreeMap<>(files
          .mapToPair(e -> {
            ImageDecoding.Header h = open(e, shippedConf, in -> ImageDecoding.header(in, e.path()));
            return new Tuple2<>(h.sizeText() + (h.gray() ? "/gray" : "/colour"), e.id());
          })
          .reduceByKey(Math::min)
          .collectAsMap());
    } catch (Exception e) { // SparkException is checked but undeclared
      InvalidDatasetException found = InvalidDatasetException.findIn(e).orElse(null);
      if (found != null) {
        throw found == e ? found : new InvalidDatasetException(found, e);
      }
      throw new IllegalStateException("Reading the image headers of " + inputDir + " failed: " + e.getMessage(), e);
    }
    boolean anyColour = firstIdBySize.keySet().stream().anyMatch(k -> k.endsWith("/colour"));
    Map<String, Long> firstIdBySizeOnly = new TreeMap<>();
    firstIdBySize.forEach((k, id) -> firstIdBySizeOnly.merge(k.substring(0, k.indexOf('/')), id, Math::min));
    int height = options.height();
    int width = options.width();
    if (height == 0) {
      List<Map.Entry<String, Long>> sizes = new ArrayList<>(firstIdBySizeOnly.entrySet());
      sizes.sort(Map.Entry.comparingByValue());
      if (sizes.size() > 1) {
        Entry a = entries.get(Math.toIntExact(sizes.get(0).getValue()));
        Entry b = entries.get(Math.toIntExact(sizes.get(1).getValue()));
        throw new InvalidDatasetException(inputDir, null, "Images in " + inputDir + " have " + sizes.size()
            + " different sizes: " + a.path() + " is " + sizes.get(0).getKey() + " (HxW) but " + b.path() + " is "
            + sizes.get(1).getKey() + "; give a target size (--size HxW) to resize them all");
      }
      int[] hw = Options.parseSize(sizes.get(0).getKey());
      height = hw[0];
      width = hw[1];
    }
    int channels = options.channels() != 0 ? options.channels() : anyColour ? 3 : 1;
    DatasetInfo info = new DatasetInfo(new int[] {height, width, channels}, classNames);

    // Pass 2: decode on the executors and write.
    int h = height;
    int w = width;
    JavaRDD<Row> rows = files.map(e -> RowFactory.create(
        open(e, shippedConf, in -> ImageDecoding.decode(in, e.path(), h, w, channels)), e.label(), e.id()));
    StructType schema = new StructType()
        .add(TensorDatasets.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add(TensorDatasets.LABEL, DataTypes.IntegerType, false)
        .add(TensorDatasets.ID, DataTypes.LongType, false);
    Map<String, String> provenance = new TreeMap<>();
    provenance.put("converter", ImageFolderConverter.class.getName());
    provenance.put("images", inputDir);
    provenance.put("classes", "sub-folder names, sorted");
    provenance.put("id", "index of the path relative to the input in sorted order");
    provenance.put("size", options.height() == 0 ? "the images' own " + height + "x" + width + " (HxW)"
        : height + "x" + width + " (HxW), other sizes resized bilinearly (half-pixel centres)");
    provenance.put("channels", options.channels() != 0 ? channels + " (given)"
        : channels + (anyColour ? " (some image is in colour)" : " (every image is gray)"));
    provenance.put("pixelScaling", "gray: sample / (2^bits - 1); colour: 8-bit sRGB / 255; to 1 channel: "
        + "0.299 R + 0.587 G + 0.114 B; alpha dropped");
    long written = TensorDatasets.write(spark.createDataFrame(rows, schema), info, outDir, provenance, overwrite);
    LOG.info("Converted {} images of {} classes from {} to {} ({}) in {} ms", written, classNames.size(), inputDir,
        outDir, info.shapeString(), (System.nanoTime() - start) / 1_000_000);
    return written;
  }

  /** Lists the class folders (into {@code classNames}) and their images, sorted by relative path, ids assigned. */
  static List<Entry> list(String inputDir, Configuration conf, List<String> classNames) {
    Path root = new Path(inputDir);
    List<String[]> found = new ArrayList<>(); // {relative path, full path, class name}
    try {
      FileSystem fs = root.getFileSystem(conf);
      FileStatus[] top;
      try {
        if (!fs.getFileStatus(root).isDirectory()) {
          throw new InvalidDatasetException(inputDir, null, "Image input " + inputDir + " is not a directory;"
              + " expected a directory with one sub-folder of images per class");
        }
        top = fs.listStatus(root);
      } catch (FileNotFoundException e) {
        throw new InvalidDatasetException(inputDir, null, "Image input " + inputDir + " does not exist", e);
      }
      java.util.Arrays.sort(top, Comparator.comparing(s -> s.getPath().getName()));
      for (FileStatus st : top) {
        String name = st.getPath().getName();
        if (hidden(name)) {
          continue;
        }
        if (!st.isDirectory()) {
          throw new InvalidDatasetException(st.getPath().toString(), null, "Stray file " + st.getPath()
              + " at the top level of " + inputDir + "; expected only one sub-folder per class");
        }
        int before = found.size();
        collect(fs, st.getPath(), name, name, found);
        if (found.size() == before) {
          throw new InvalidDatasetException(st.getPath().toString(), null, "Class folder " + st.getPath()
              + " holds no images (.png, .jpg, .jpeg); remove it or add images");
        }
        classNames.add(name);
      }
    } catch (IOException e) {
      throw new InvalidDatasetException(inputDir, null, "Cannot list " + inputDir + ": " + e.getMessage(), e);
    }
    if (classNames.isEmpty()) {
      throw new InvalidDatasetException(inputDir, null, "Image input " + inputDir + " has no class sub-folders;"
          + " expected one sub-folder of images per class");
    }
    found.sort(Comparator.comparing(f -> f[0]));
    List<Entry> entries = new ArrayList<>(found.size());
    for (String[] f : found) {
      entries.add(new Entry(entries.size(), f[1], f[0], classNames.indexOf(f[2])));
    }
    return entries;
  }

  private static void collect(FileSystem fs, Path dir, String relative, String className, List<String[]> found)
      throws IOException {
    for (FileStatus st : fs.listStatus(dir)) {
      String name = st.getPath().getName();
      if (hidden(name)) {
        continue;
      }
      String rel = relative + "/" + name;
      if (st.isDirectory()) {
        collect(fs, st.getPath(), rel, className, found);
      } else if (EXTENSIONS.stream().anyMatch(x -> name.toLowerCase(Locale.ROOT).endsWith(x))) {
        found.add(new String[] {rel, st.getPath().toString(), className});
      } else {
        throw new InvalidDatasetException(st.getPath().toString(), null, "File " + st.getPath() + " in class folder "
            + className + " is not a PNG or JPEG image (expected .png, .jpg or .jpeg)");
      }
    }
  }

  private static boolean hidden(String name) {
    return name.startsWith(".") || name.startsWith("_");
  }

  private interface StreamReader<T> {
    T read(InputStream in);
  }

  private static <T> T open(Entry e, SerializableConf conf, StreamReader<T> reader) throws IOException {
    Path p = new Path(e.path());
    try (InputStream in = p.getFileSystem(conf.get()).open(p)) {
      return reader.read(in);
    }
  }
}
