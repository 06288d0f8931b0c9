package io.sparkquant.data;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Turns a partition's rows ({@code features} array&lt;float&gt; in HWC order, {@code label} int, {@code id} long,
 * as in {@link TensorDataset#rows()}) into batches of float arrays or DL4J DataSets, lazily: at most one batch is held at a time. Use inside
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
    return new BatchIterator<>(rows, new ExternalRowFields(info, TensorDatasets.FEATURES), info, batchSize,
        checked(layout, info, batchSize), TensorDatasets.FEATURES);
  }

  /**
   * Batches of one features column of any rows (array&lt;float&gt;, checked as {@link #batchIterator} checks it);
   * labels and ids are not read, so {@link Batch#labels()} and {@link Batch#ids()} are null. The iterator reads
   * exactly the rows of a batch from {@code rows} on each {@code next()}, so a caller can pair batches with rows.
   */
  public static Iterator<Batch> featureBatchIterator(Iterator<Row> rows, String featuresColumn, DatasetInfo info,
      int batchSize, Layout layout) {
    return new BatchIterator<>(rows, new ExternalRowFields(info, featuresColumn), info, batchSize,
        checked(layout, info, batchSize), featuresColumn);
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

  /**
   * Batches of Spark's internal rows of a DataFrame with {@code schema} (as {@code queryExecution().toRdd()} gives
   * them for {@link TensorDataset#rows()} or {@link TensorDatasets#loadFeatures}), checked and laid out as
   * {@link #batchIterator} does. The features are copied straight out of each row, without the boxed values an
   * external {@link Row} holds; rows may be reused by the caller's iterator once {@code next()} returns.
   */
  public static Iterator<Batch> internalBatchIterator(Iterator<InternalRow> rows, StructType schema,
      DatasetInfo info, int batchSize, Layout layout) {
    return new BatchIterator<>(rows, new InternalRowFields(schema, info), info, batchSize, checked(layout, info,
        batchSize), TensorDatasets.FEATURES);
  }

  /**
   * {@code batch}, whose features are in {@code from} (NHWC, or FLAT in stored order), with its features in
   * {@code to}: the same values under another shape unless {@code to} is NCHW.
   */
  public static Batch inLayout(Batch batch, Layout from, Layout to, DatasetInfo info) {
    if (from == to) {
      return batch;
    }
    if (from == Layout.NCHW) {
      throw new IllegalArgumentException("Batches convert from NHWC or FLAT, not from NCHW");
    }
    int n = batch.size();
    int[] shape = info.shape();
    int length = info.featureLength();
    if (to != Layout.FLAT && shape.length != 3) {
      throw new IllegalArgumentException("A model takes " + to + " images but the dataset shape "
          + info.shapeString() + " is not (H, W, C)");
    }
    float[] values = batch.values();
    if (to == Layout.NCHW) {
      float[] converted = new float[values.length];
      for (int i = 0; i < n; i++) {
        copyInLayout(values, i * length, converted, i * length, length, to, shape);
      }
      values = converted;
    }
    return new Batch(values, batchShape(to, n, shape, length), batch.labels(), batch.ids());
  }

  /**
   * Copies one row of {@code length} values, stored in HWC order in {@code hwc} from {@code from}, to {@code buffer}
   * at {@code to} in {@code layout}.
   */
  private static void copyInLayout(float[] hwc, int from, float[] buffer, int to, int length, Layout layout,
      int[] shape) {
    if (layout != Layout.NCHW) {
      System.arraycopy(hwc, from, buffer, to, length);
      return;
    }
    int plane = shape[0] * shape[1];
    int channels = shape[2];
    // HWC index hw * C + c  ->  CHW index c * H * W + hw
    int i = from;
    for (int hw = 0; hw < plane; hw++) {
      for (int c = 0; c < channels; c++) {
        buffer[to + c * plane + hw] = hwc[i++];
      }
    }
  }

  private static long[] batchShape(Layout layout, int n, int[] shape, int length) {
    return switch (layout) {
      case NCHW -> new long[] {n, shape[2], shape[0], shape[1]};
      case NHWC -> new long[] {n, shape[0], shape[1], shape[2]};
      case FLAT -> new long[] {n, length};
    };
  }

  /** How the batch reader gets at one kind of row's id, label and features. */
  private interface RowFields<R> {

    /** Called with the first row before any other method. */
    void resolve(R first);

    boolean hasId();

    boolean hasLabel();

    /** Null for a null id. */
    Long id(R row);

    /** Null for a null label. */
    Number label(R row);

    /** Copies the features (HWC order) into {@code out}, or says what is wrong with them. */
    RowChecks.Problem features(R row, float[] out);
  }

  /** External rows: the columns are found by name in the first row's schema (or taken in format order). */
  private static final class ExternalRowFields implements RowFields<Row> {
    private final DatasetInfo info;
    private final String featuresColumn;
    /** Only the features column is read: the rows are not tensor-format rows. */
    private final boolean featuresOnly;
    private int featuresIndex;
    private int labelIndex = -1;
    private int idIndex = -1;

    ExternalRowFields(DatasetInfo info, String featuresColumn) {
      this.info = info;
      this.featuresColumn = featuresColumn;
      this.featuresOnly = !featuresColumn.equals(TensorDatasets.FEATURES);
    }

    @Override
    public void resolve(Row first) {
      StructType schema = first.schema();
      if (schema == null) {
        if (featuresOnly) {
          throw new IllegalArgumentException("rows without a schema have no column '" + featuresColumn + "'");
        }
        featuresIndex = 0;
        labelIndex = 1;
        idIndex = 2;
        return;
      }
      int[] indices = columnIndices(schema, featuresColumn, featuresOnly);
      featuresIndex = indices[0];
      labelIndex = indices[1];
      idIndex = indices[2];
    }

    @Override
    public boolean hasId() {
      return idIndex >= 0;
    }

    @Override
    public boolean hasLabel() {
      return labelIndex >= 0;
    }

    @Override
    public Long id(Row row) {
      return row.isNullAt(idIndex) ? null : row.getLong(idIndex);
    }

    @Override
    public Number label(Row row) {
      return row.isNullAt(labelIndex) ? null : (Number) row.get(labelIndex);
    }

    @Override
    public RowChecks.Problem features(Row row, float[] out) {
      List<Number> values = row.isNullAt(featuresIndex) ? null : row.getList(featuresIndex);
      RowChecks.Problem p = RowChecks.featuresProblem(values, info);
      if (p == null) {
        for (int i = 0; i < out.length; i++) {
          out[i] = values.get(i).floatValue();
        }
      }
      return p;
    }
  }

  /** Internal rows of a tensor-format DataFrame whose schema is known up front. */
  private static final class InternalRowFields implements RowFields<InternalRow> {
    private final DatasetInfo info;
    private final int featuresIndex;
    private final int labelIndex;
    private final int idIndex;
    private final DataType labelType;

    InternalRowFields(StructType schema, DatasetInfo info) {
      this.info = info;
      int[] indices = columnIndices(schema, TensorDatasets.FEATURES, false);
      featuresIndex = indices[0];
      labelIndex = indices[1];
      idIndex = indices[2];
      labelType = labelIndex < 0 ? null : schema.fields()[labelIndex].dataType();
    }

    @Override
    public void resolve(InternalRow first) {}

    @Override
    public boolean hasId() {
      return true;
    }

    @Override
    public boolean hasLabel() {
      return labelIndex >= 0;
    }

    @Override
    public Long id(InternalRow row) {
      return row.isNullAt(idIndex) ? null : row.getLong(idIndex);
    }

    @Override
    public Number label(InternalRow row) {
      return row.isNullAt(labelIndex) ? null : (Number) row.get(labelIndex, labelType);
    }

    @Override
    public RowChecks.Problem features(InternalRow row, float[] out) {
      return RowChecks.copyFeatures(row.isNullAt(featuresIndex) ? null : row.getArray(featuresIndex), info, out);
    }
  }

  /**
   * Indices of the features, label (-1 if absent) and id (-1 when only the features are read) columns.
   *
   * @throws InvalidDatasetException when a needed column is missing
   */
  private static int[] columnIndices(StructType schema, String featuresColumn, boolean featuresOnly) {
    List<String> names = List.of(schema.fieldNames());
    List<String> required = featuresOnly ? List.of(featuresColumn) : List.of(TensorDatasets.FEATURES, TensorDatasets.ID);
    for (String column : required) {
      if (!names.contains(column)) {
        throw new InvalidDatasetException("the rows given to Batches", column, "Rows given to Batches have no '"
            + column + "' column; found " + names + ". Use TensorDatasets.load(...).rows()");
      }
    }
    if (featuresOnly) {
      return new int[] {schema.fieldIndex(featuresColumn), -1, -1};
    }
    return new int[] {schema.fieldIndex(featuresColumn),
        names.contains(TensorDatasets.LABEL) ? schema.fieldIndex(TensorDatasets.LABEL) : -1,
        schema.fieldIndex(TensorDatasets.ID)};
  }

  private static final class BatchIterator<R> implements Iterator<Batch> {
    private final Iterator<R> rows;
    private final RowFields<R> fields;
    private final DatasetInfo info;
    private final int batchSize;
    private final Layout layout;
    private final int length;
    private final int[] shape;
    private final String featuresColumn;
    private final float[] row;
    private boolean resolved;
    private long rowsRead;

    BatchIterator(Iterator<R> rows, RowFields<R> fields, DatasetInfo info, int batchSize, Layout layout,
        String featuresColumn) {
      this.rows = rows;
      this.fields = fields;
      this.featuresColumn = featuresColumn;
      this.info = info;
      this.batchSize = batchSize;
      this.layout = layout;
      this.length = info.featureLength();
      this.shape = info.shape();
      this.row = new float[length];
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
        R r = rows.next();
        if (!resolved) {
          fields.resolve(r);
          resolved = true;
        }
        Long id = null;
        if (fields.hasId()) {
          id = fields.id(r);
          if (id == null) {
            throw InvalidDatasetException.atRow("the rows given to Batches", TensorDatasets.ID, where(null),
                "a long", "null");
          }
          ids[n] = id;
        }
        RowChecks.Problem p = fields.features(r, row);
        if (p != null) {
          throw InvalidDatasetException.atRow("the rows given to Batches", featuresColumn, where(id), p.expected(),
              p.actual());
        }
        if (fields.hasLabel()) {
          Number label = fields.label(r);
          p = RowChecks.labelProblem(label, info);
          if (p != null) {
            throw InvalidDatasetException.atRow("the rows given to Batches", TensorDatasets.LABEL, where(id),
                p.expected(), p.actual());
          }
          labels[n] = label.intValue();
        }
        copyInLayout(row, 0, buffer, n * length, length, layout, shape);
        n++;
        rowsRead++;
      }
      return new Batch(n == batchSize ? buffer : Arrays.copyOf(buffer, n * length),
          batchShape(layout, n, shape, length),
          fields.hasLabel() ? (n == batchSize ? labels : Arrays.copyOf(labels, n)) : null,
          fields.hasId() ? (n == batchSize ? ids : Arrays.copyOf(ids, n)) : null);
    }

    /** The current row, for an error message. */
    private String where(Long id) {
      return RowChecks.rowText(id, "row " + rowsRead + " of this partition");
    }
  }
}
