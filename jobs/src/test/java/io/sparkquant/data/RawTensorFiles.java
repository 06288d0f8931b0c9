package io.sparkquant.data;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.util.HadoopOutputFile;

/**
 * Writes a tensor dataset file with SparkQuant's footer but without the writer's row checks, so tests can hold
 * bad rows (a label out of range, a wrong length) in an otherwise valid dataset, as a file written elsewhere may.
 */
public final class RawTensorFiles {

  /** One row as stored. */
  public record RawRow(float[] features, int label, long id) {}

  private RawTensorFiles() {}

  public static void write(String file, DatasetInfo info, List<RawRow> rows) throws IOException {
    Map<String, String> footer = FormatMetadata.footer(info, Map.of(), true, true, "3.5.0");
    TensorWriteSupport support = new TensorWriteSupport(true, true, footer);
    Configuration conf = new Configuration();
    try (ParquetWriter<TensorWriteSupport.TensorRow> w =
        new Builder(HadoopOutputFile.fromPath(new Path(file), conf), support).withConf(conf).build()) {
      for (RawRow r : rows) {
        w.write(new TensorWriteSupport.TensorRow(r.features(), r.label(), r.id()));
      }
    }
  }

  private static final class Builder extends ParquetWriter.Builder<TensorWriteSupport.TensorRow, Builder> {
    private final TensorWriteSupport support;

    Builder(org.apache.parquet.io.OutputFile f, TensorWriteSupport support) {
      super(f);
      this.support = support;
    }

    @Override
    protected Builder self() {
      return this;
    }

    @Override
    protected WriteSupport<TensorWriteSupport.TensorRow> getWriteSupport(Configuration c) {
      return support;
    }
  }
}
