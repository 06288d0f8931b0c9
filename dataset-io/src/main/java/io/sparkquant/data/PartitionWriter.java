package io.sparkquant.data;

import io.sparkquant.data.TensorWriteSupport.TensorRow;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopStreams;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.sql.Row;

/**
 * Writes one Spark partition of normalized rows (features array&lt;float&gt;, then the optional label (integral)
 * and id (long), in this order) to
 * one Parquet file in the temporary dataset directory, validating every row. Each task attempt writes a
 * hidden file and renames it when complete, so a failed attempt leaves no visible part file.
 */
final class PartitionWriter implements Function2<Integer, Iterator<Row>, Iterator<PartitionWriter.WrittenFile>> {

  private static final long serialVersionUID = 1L;

  /** A part file and its row count. */
  record WrittenFile(String name, long rows) implements Serializable {}

  private final String tmpDir;
  private final SerializableConf conf;
  private final DatasetInfo info;
  private final Map<String, String> footer;
  private final boolean withLabel;
  private final boolean withId;
  private final String source;

  PartitionWriter(String tmpDir, Configuration conf, DatasetInfo info, Map<String, String> footer,
      boolean withLabel, boolean withId, String source) {
    this.withLabel = withLabel;
    this.tmpDir = tmpDir;
    this.conf = new SerializableConf(conf);
    this.info = info;
    this.footer = footer;
    this.withId = withId;
    this.source = source;
  }

  @Override
  public Iterator<WrittenFile> call(Integer partition, Iterator<Row> rows) throws IOException {
    if (!rows.hasNext()) {
      return List.<WrittenFile>of().iterator();
    }
    String name = String.format("part-%05d.snappy.parquet", partition);
    TaskContext task = TaskContext.get();
    long attempt = task == null ? 0 : task.taskAttemptId();
    Path attemptPath = new Path(tmpDir, "." + name + ".attempt-" + attempt);
    Path finalPath = new Path(tmpDir, name);
    Configuration hadoopConf = conf.get();
    FileSystem fs = OutputCommit.fileSystem(attemptPath, hadoopConf);
    long count = 0;
    boolean done = false;
    try {
      try (ParquetWriter<TensorRow> writer = new Builder(new NonRecursiveOutputFile(fs, attemptPath),
          new TensorWriteSupport(withLabel, withId, footer))
          .withConf(hadoopConf)
          .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
          .withCompressionCodec(CompressionCodecName.SNAPPY)
          .build()) {
        while (rows.hasNext()) {
          writer.write(toTensorRow(rows.next(), partition, count));
          count++;
        }
      }
      if (fs.exists(finalPath)) {
        // A speculative twin of this task committed first; its file has the same rows.
        fs.delete(attemptPath, false);
      } else if (!fs.rename(attemptPath, finalPath)) {
        throw new IOException("Cannot rename " + attemptPath + " to " + finalPath);
      }
      done = true;
    } finally {
      if (!done) {
        try {
          fs.delete(attemptPath, false);
        } catch (IOException | UncheckedIOException e) {
          // Best effort: the whole temporary directory is deleted by the driver after a failure.
        }
      }
    }
    return List.of(new WrittenFile(name, count)).iterator();
  }

  private TensorRow toTensorRow(Row row, int partition, long index) {
    int idIndex = withLabel ? 2 : 1;
    Long id = withId && !row.isNullAt(idIndex) ? row.getLong(idIndex) : null;
    String position = "row " + index + " of partition " + partition;
    List<Number> values = row.isNullAt(0) ? null : row.getList(0);
    RowChecks.Problem p = RowChecks.featuresProblem(values, info);
    if (p != null) {
      throw InvalidDatasetException.atRow(source, TensorDatasets.FEATURES, RowChecks.rowText(id, position),
          p.expected(), p.actual());
    }
    Number label = !withLabel || row.isNullAt(1) ? null : (Number) row.get(1);
    p = withLabel ? RowChecks.labelProblem(label, info) : null;
    if (p != null) {
      throw InvalidDatasetException.atRow(source, TensorDatasets.LABEL, RowChecks.rowText(id, position),
          p.expected(), p.actual());
    }
    if (withId && id == null) {
      throw InvalidDatasetException.atRow(source, TensorDatasets.ID, position, "a long", "null");
    }
    float[] features = new float[values.size()];
    for (int i = 0; i < features.length; i++) {
      features[i] = values.get(i).floatValue();
    }
    return new TensorRow(features, withLabel ? label.intValue() : 0, withId ? id : 0L);
  }

  /**
   * Creates the file only if its directory exists: after a failed job the driver deletes the temporary directory
   * while straggler tasks may still start, and a recursive create would bring the directory back.
   */
  private record NonRecursiveOutputFile(FileSystem fs, Path path) implements OutputFile {
    @Override
    public PositionOutputStream create(long blockSize) throws IOException {
      return open(false, blockSize);
    }

    @Override
    public PositionOutputStream createOrOverwrite(long blockSize) throws IOException {
      return open(true, blockSize);
    }

    private PositionOutputStream open(boolean overwrite, long blockSize) throws IOException {
      // Hadoop's raw local file system creates missing parents even in createNonRecursive; check as its
      // checksumming wrapper and HDFS do.
      if (!fs.exists(path.getParent())) {
        throw new FileNotFoundException("Temporary output " + path.getParent() + " is gone (the job failed)");
      }
      return HadoopStreams.wrap(fs.createNonRecursive(path, overwrite, 1 << 16, fs.getDefaultReplication(path),
          Math.max(blockSize, fs.getDefaultBlockSize(path)), null));
    }

    @Override
    public boolean supportsBlockSize() {
      return true;
    }

    @Override
    public long defaultBlockSize() {
      return fs.getDefaultBlockSize(path);
    }

    @Override
    public String getPath() {
      return path.toString();
    }
  }

  private static final class Builder extends ParquetWriter.Builder<TensorRow, Builder> {
    private final TensorWriteSupport writeSupport;

    Builder(OutputFile file, TensorWriteSupport writeSupport) {
      super(file);
      this.writeSupport = writeSupport;
    }

    @Override
    protected Builder self() {
      return this;
    }

    @Override
    protected WriteSupport<TensorRow> getWriteSupport(Configuration conf) {
      return writeSupport;
    }
  }
}
