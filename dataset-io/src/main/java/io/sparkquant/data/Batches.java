package io.sparkquant.data;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns a partition's rows ({@code features} array&lt;float&gt; in HWC order, {@code label} int, {@code id} long,
 * as in {@link TensorDataset#rows()}) into DL4J batches, lazily: at most one batch is held at a time. Use inside
 * {@code mapPartitions}/{@code foreachPartition}; never collect rows to the driver.
 */
public final class Batches {

  private Batches() {}

  /** DL4J DataSets: features in {@code layout}, labels one-hot {@code [n, numClasses]}; the last may be smaller. */
  public static Iterator<DataSet> iterator(Iterator<Row> rows, DatasetInfo info, int batchSize, Layout layout) {
    Iterator<Batch> batches = batchIterator(rows, info, batchSize, layout);
    int numClasses = info.numClasses();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return batches.hasNext();
      }

      @Override
      public DataSet next() {
        return batches.next().toDataSet(numClasses);
      }
    };
  }

  /**
   * Batches with features in {@code layout} plus the label and id of every row. Rows are checked as they are
   * read (feature count, finite values, label range). Rows without a {@code label} column (unlabelled data, as
   * {@link TensorDatasets#loadFeatures} gives it) make batches whose {@link Batch#labels()} is null.
   *
   * @throws IllegalArgumentException when batchSize &lt; 1, or layout needs a rank-3 (H, W, C) shape
   * @throws InvalidDatasetException (from next()) for a bad row, naming column and row id
   */
  public static Iterator<Batch> batchIterator(Iterator<Row> rows, DatasetInfo info, int batchSize, Layout layout) {
    return new BatchIterator(rows, info, batchSize, checked(layout, info, batchSize), TensorDatasets.FEATURES);
  }

  /**
   * Batches of one features column of any rows (array&lt;float&gt;, checked as {@link #batchIterator} checks it);
   * labels and ids are not read, so {@link Batch#labels()} and {@link Batch#ids()} are null. The iterator reads
   * exactly the rows of a batch from {@code rows} on each {@code next()}, so a caller can pair batches with rows.
   */
  public static Iterator<Batch> featureBatchIterator(Iterator<Row> rows, String featuresColumn, DatasetInfo info,
      int batchSize, Layout layout) {
    return new BatchIterator(rows, info, batchSize, checked(layout, info, batchSize), featuresColumn);
  }

  private static Layout checked(Layout layout, DatasetInfo info, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
    }
    if (layout != Layout.FLAT && info.shape().length != 3) {
      throw new IllegalArgumentException("Layout " + layout + " needs a shape of rank 3 (H, W, C), got "
          + info.shapeString() + "; use Layout.FLAT");
    }
    return layout;
  }

  private static final class BatchIterator implements Iterator<Batch> {
    private final Iterator<Row> rows;
    private final DatasetInfo info;
    private final int batchSize;
    private final Layout layout;
    private final int length;
    private final int[] shape;
    private final String featuresColumn;
    /** Only the features column is read: the rows are not tensor-format rows. */
    private final boolean featuresOnly;
    private int featuresIndex = -1;
    private int labelIndex = -1;
    private int idIndex = -1;
    private long rowsRead;

    BatchIterator(Iterator<Row> rows, DatasetInfo info, int batchSize, Layout layout, String featuresColumn) {
      this.rows = rows;
      this.featuresColumn = featuresColumn;
      this.featuresOnly = !featuresColumn.equals(TensorDatasets.FEATURES);
      this.info = info;
      this.batchSize = batchSize;
      this.layout = layout;
      this.length = info.featureLength();
      this.shape = info.shape();
    }

    @Override
    public boolean hasNext() {
      return rows.hasNext();
    }

    @Override
    public Batch next() {
      if (!rows.hasNext()) {
        throw new NoSuchElementException();
      }
      float[] buffer = new float[batchSize * length];
      int[] labels = new int[batchSize];
      long[] ids = new long[batchSize];
      int n = 0;
      while (n < batchSize && rows.hasNext()) {
        Row row = rows.next();
        if (featuresIndex < 0) {
          resolveIndices(row.schema());
        }
        String where = "row " + rowsRead + " of this partition";
        if (idIndex >= 0) {
          if (row.isNullAt(idIndex)) {
            throw InvalidDatasetException.atRow("the rows given to Batches", TensorDatasets.ID, where, "a long",
                "null");
          }
          ids[n] = row.getLong(idIndex);
          where = "row id " + ids[n] + " (" + where + ")";
        }
        List<Number> values = row.isNullAt(featuresIndex) ? null : row.getList(featuresIndex);
        RowChecks.Problem p = RowChecks.featuresProblem(values, info);
        if (p != null) {
          throw InvalidDatasetException.atRow("the rows given to Batches", featuresColumn, where, p.expected(),
              p.actual());
        }
        if (labelIndex >= 0) {
          Number label = row.isNullAt(labelIndex) ? null : (Number) row.get(labelIndex);
          p = RowChecks.labelProblem(label, info);
          if (p != null) {
            throw InvalidDatasetException.atRow("the rows given to Batches", TensorDatasets.LABEL, where,
                p.expected(), p.actual());
          }
          labels[n] = label.intValue();
        }
        copyFeatures(values, buffer, n * length);
        n++;
        rowsRead++;
      }
      float[] data = n == batchSize ? buffer : java.util.Arrays.copyOf(buffer, n * length);
      long[] batchShape = switch (layout) {
        case NCHW -> new long[] {n, shape[2], shape[0], shape[1]};
        case NHWC -> new long[] {n, shape[0], shape[1], shape[2]};
        case FLAT -> new long[] {n, length};
      };
      return new Batch(Nd4j.create(data, batchShape, 'c'),
          labelIndex < 0 ? null : n == batchSize ? labels : java.util.Arrays.copyOf(labels, n),
          idIndex < 0 ? null : n == batchSize ? ids : java.util.Arrays.copyOf(ids, n));
    }

    private void copyFeatures(List<Number> values, float[] buffer, int offset) {
      if (layout != Layout.NCHW) {
        for (int i = 0; i < length; i++) {
          buffer[offset + i] = values.get(i).floatValue();
        }
        return;
      }
      int height = shape[0];
      int width = shape[1];
      int channels = shape[2];
      int plane = height * width;
      // HWC index (h * W + w) * C + c  ->  CHW index c * H * W + h * W + w
      int hwc = 0;
      for (int hw = 0; hw < plane; hw++) {
        for (int c = 0; c < channels; c++) {
          buffer[offset + c * plane + hw] = values.get(hwc++).floatValue();
        }
      }
    }

    private void resolveIndices(StructType schema) {
      if (schema == null) {
        if (featuresOnly) {
          throw new IllegalArgumentException("rows without a schema have no column '" + featuresColumn + "'");
        }
        featuresIndex = 0;
        labelIndex = 1;
        idIndex = 2;
        return;
      }
      List<String> names = List.of(schema.fieldNames());
      List<String> required = featuresOnly ? List.of(featuresColumn)
          : List.of(TensorDatasets.FEATURES, TensorDatasets.ID);
      for (String column : required) {
        if (!names.contains(column)) {
          throw new InvalidDatasetException("the rows given to Batches", column, "Rows given to Batches have no '"
              + column + "' column; found " + names + ". Use TensorDatasets.load(...).rows()");
        }
      }
      featuresIndex = schema.fieldIndex(featuresColumn);
      if (!featuresOnly) {
        idIndex = schema.fieldIndex(TensorDatasets.ID);
        labelIndex = names.contains(TensorDatasets.LABEL) ? schema.fieldIndex(TensorDatasets.LABEL) : -1;
      }
    }
  }
}
