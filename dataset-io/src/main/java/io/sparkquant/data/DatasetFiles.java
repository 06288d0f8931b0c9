package io.sparkquant.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;

/** The data files of a dataset directory with their footers, read on the driver (footers only). */
final class DatasetFiles {

  /** One data file: its path, row count, footer key-value metadata and Parquet schema. */
  record FileFooter(Path path, long rows, Map<String, String> keyValues, MessageType schema) {}

  private DatasetFiles() {}

  /**
   * Lists the visible files of {@code dir} (or {@code dir} itself when it is a file), sorted by name, and reads
   * their footers. Names starting with '_' or '.' are skipped as Spark does.
   */
  static List<FileFooter> scan(String dir, Configuration conf) {
    Path root = new Path(dir);
    List<FileStatus> files = new ArrayList<>();
    try {
      FileSystem fs = root.getFileSystem(conf);
      FileStatus status;
      try {
        status = fs.getFileStatus(root);
      } catch (FileNotFoundException e) {
        throw new InvalidDatasetException(dir, null, "Dataset " + dir + " does not exist", e);
      }
      if (status.isFile()) {
        files.add(status);
      } else {
        for (FileStatus st : fs.listStatus(root)) {
          String name = st.getPath().getName();
          if (name.startsWith("_") || name.startsWith(".")) {
            continue;
          }
          if (st.isDirectory()) {
            throw new InvalidDatasetException(dir, null, "Dataset directory " + dir + " contains a subdirectory "
                + name + "; expected only Parquet files (partitioned layouts are not supported)");
          }
          files.add(st);
        }
      }
    } catch (IOException e) {
      throw new InvalidDatasetException(dir, null, "Cannot list dataset " + dir + ": " + e.getMessage(), e);
    }
    if (files.isEmpty()) {
      throw new InvalidDatasetException(dir, null, "Dataset directory " + dir + " holds no data files");
    }
    files.sort(Comparator.comparing(st -> st.getPath().getName()));
    List<FileFooter> footers = new ArrayList<>(files.size());
    for (FileStatus st : files) {
      footers.add(readFooter(st, conf));
    }
    return footers;
  }

  private static FileFooter readFooter(FileStatus st, Configuration conf) {
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromStatus(st, conf))) {
      var meta = reader.getFooter().getFileMetaData();
      return new FileFooter(st.getPath(), reader.getRecordCount(), meta.getKeyValueMetaData(), meta.getSchema());
    } catch (IOException | RuntimeException e) {
      throw new InvalidDatasetException(st.getPath().toString(), null, "Cannot read Parquet file " + st.getPath()
          + " (" + st.getLen() + " bytes; truncated or not Parquet?): " + e.getMessage(), e);
    }
  }

  /** The dataset info all footers agree on; error naming the file when one has none or they differ. */
  static DatasetInfo agreedInfo(List<FileFooter> footers, String dir) {
    DatasetInfo agreed = null;
    Path agreedFile = null;
    for (FileFooter f : footers) {
      DatasetInfo info = FormatMetadata.info(f.keyValues(), f.path().toString());
      if (info == null) {
        throw new InvalidDatasetException(f.path().toString(), null, "File " + f.path() + " has no tensor metadata ("
            + FormatMetadata.KEY_SHAPE + ", " + FormatMetadata.KEY_CLASSES + "); write datasets with "
            + "TensorDatasets.write, or pass the DatasetInfo to TensorDatasets.load(spark, dir, info)");
      }
      if (agreed == null) {
        agreed = info;
        agreedFile = f.path();
      } else if (!agreed.equals(info)) {
        throw new InvalidDatasetException(dir, null, "Files of dataset " + dir + " disagree: " + agreedFile
            + " has " + agreed + " but " + f.path() + " has " + info);
      }
    }
    return agreed;
  }

  static long totalRows(List<FileFooter> footers) {
    return footers.stream().mapToLong(FileFooter::rows).sum();
  }

  static String[] pathStrings(List<FileFooter> footers) {
    return footers.stream().map(f -> f.path().toString()).toArray(String[]::new);
  }

  static String describe(List<FileFooter> footers) {
    return footers.size() + " file(s) " + Arrays.toString(footers.stream().limit(3).map(f -> f.path().getName())
        .toArray()) + (footers.size() > 3 ? "..." : "");
  }
}
