package io.sparkquant.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

class BatchesTest {

  /** H=2, W=3, C=3: non-square with several channels, so a wrong transposition cannot pass. */
  private static final DatasetInfo INFO = new DatasetInfo(new int[] {2, 3, 3}, List.of("a", "b", "c", "d"));
  private static final int ROWS = 23;

  @TempDir Path tmp;

  private static StructType schema() {
    return new StructType()
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false))
        .add("label", DataTypes.IntegerType)
        .add("id", DataTypes.LongType);
  }

  @Test
  void nchwNhwcAndFlatBatchesMatchTheHwcRowsElementByElement() {
    SparkSession spark = SharedSpark.get();
    Random random = new Random(11);
    byte[] pixels = new byte[ROWS * INFO.featureLength()];
    random.nextBytes(pixels);
    byte[] labels = new byte[ROWS];
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      labels[i] = (byte) random.nextInt(INFO.numClasses());
      float[] f = new float[INFO.featureLength()];
      for (int k = 0; k < f.length; k++) {
        f[k] = (pixels[i * f.length + k] & 0xff) / 255f;
      }
      rows.add(RowFactory.create(f, (int) labels[i], (long) i));
    }
    String out = tmp.resolve("ds").toString();
    TensorDatasets.write(spark.createDataFrame(rows, schema()).repartition(3), INFO, out, Map.of());
    TensorDataset ds = TensorDatasets.load(spark, out);
    for (Layout layout : Layout.values()) {
      long[] s = IdxConverterTest.compare(ds, pixels, labels, 4, layout);
      assertArrayEquals(new long[] {ROWS, (long) ROWS * INFO.featureLength(), 0}, java.util.Arrays.copyOf(s, 3),
          layout.toString());
    }
  }

  /** Returns {batches, rows, one-hot mismatches} per partition and checks DataSet shapes on the executor. */
  record DataSetStats(DatasetInfo info, int batchSize) implements FlatMapFunction<Iterator<Row>, long[]> {
    @Override
    public Iterator<long[]> call(Iterator<Row> rows) {
      List<Row> buffered = new ArrayList<>();
      rows.forEachRemaining(buffered::add);
      Iterator<DataSet> it = Batches.iterator(buffered.iterator(), info, batchSize, Layout.NCHW);
      long[] s = new long[3];
      int r = 0;
      while (it.hasNext()) {
        DataSet d = it.next();
        int n = (int) d.getFeatures().size(0);
        if (d.getFeatures().rank() != 4 || d.getFeatures().size(1) != 3 || d.getFeatures().size(2) != 2
            || d.getFeatures().size(3) != 3 || d.getLabels().size(1) != info.numClasses()) {
          s[2] += 1000;
        }
        for (int i = 0; i < n; i++) {
          int label = buffered.get(r++).getInt(1);
          for (int c = 0; c < info.numClasses(); c++) {
            if (d.getLabels().getFloat(i, c) != (c == label ? 1f : 0f)) {
              s[2]++;
            }
          }
        }
        s[0]++;
        s[1] += n;
      }
      return List.of(s).iterator();
    }
  }

  @Test
  void dataSetsHaveOneHotLabelsAndASmallerLastBatch() {
    SparkSession spark = SharedSpark.get();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      rows.add(RowFactory.create(new float[INFO.featureLength()], i % 4, (long) i));
    }
    String out = tmp.resolve("ds").toString();
    TensorDatasets.write(spark.createDataFrame(rows, schema()).coalesce(1), INFO, out, Map.of());
    List<long[]> stats = TensorDatasets.load(spark, out).rows().toJavaRDD()
        .mapPartitions(new DataSetStats(INFO, 4)).collect();
    assertEquals(1, stats.size());
    assertArrayEquals(new long[] {3, 10, 0}, stats.get(0)); // 4 + 4 + 2
  }

  @Test
  void badRowsAndBadArgumentsAreRejected() {
    Row good = new GenericRowWithSchema(new Object[] {
        scala.collection.JavaConverters.asScalaBuffer(java.util.Arrays.asList(new Float[18])).toSeq(), 1, 5L}, schema());
    List<Float> shortValues = new ArrayList<>();
    for (int i = 0; i < 17; i++) {
      shortValues.add(0f);
    }
    Row bad = new GenericRowWithSchema(new Object[] {
        scala.collection.JavaConverters.asScalaBuffer(shortValues).toSeq(), 1, 42L}, schema());
    InvalidDatasetException e = assertThrows(InvalidDatasetException.class,
        () -> Batches.batchIterator(List.of(bad).iterator(), INFO, 2, Layout.NCHW).next());
    assertTrue(e.getMessage().contains("row id 42") && e.getMessage().contains("found 17 values"), e.getMessage());
    InvalidDatasetException nulls = assertThrows(InvalidDatasetException.class,
        () -> Batches.batchIterator(List.of(good).iterator(), INFO, 2, Layout.FLAT).next());
    assertTrue(nulls.getMessage().contains("null at index 0"), nulls.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> Batches.batchIterator(List.<Row>of().iterator(), INFO, 0, Layout.FLAT));
    DatasetInfo flat = new DatasetInfo(new int[] {18}, INFO.classNames());
    IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
        () -> Batches.batchIterator(List.<Row>of().iterator(), flat, 2, Layout.NCHW));
    assertTrue(rank.getMessage().contains("rank 3"), rank.getMessage());
  }

  /** Every batch of a partition as text: shape, values, labels and ids (Float.toString round-trips exactly). */
  private static Iterator<String> describe(Iterator<Batch> batches) {
    List<String> out = new ArrayList<>();
    batches.forEachRemaining(b -> out.add(java.util.Arrays.toString(b.shape()) + java.util.Arrays.toString(b.values())
        + java.util.Arrays.toString(b.labels()) + java.util.Arrays.toString(b.ids())));
    return out.iterator();
  }

  @Test
  void internalRowBatchesEqualRowBatchesInEveryLayoutAndConvertLikeThem() {
    SparkSession spark = SharedSpark.get();
    Random random = new Random(5);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      float[] f = new float[INFO.featureLength()];
      for (int k = 0; k < f.length; k++) {
        f[k] = random.nextFloat() - 0.5f;
      }
      rows.add(RowFactory.create(f, random.nextInt(INFO.numClasses()), (long) i * 7));
    }
    String out = tmp.resolve("ds").toString();
    TensorDatasets.write(spark.createDataFrame(rows, schema()).repartition(3), INFO, out, Map.of());
    org.apache.spark.sql.Dataset<Row> loaded = TensorDatasets.load(spark, out).rows();
    StructType loadedSchema = loaded.schema();
    for (Layout layout : Layout.values()) {
      List<String> external = loaded.toJavaRDD()
          .mapPartitions(it -> describe(Batches.batchIterator(it, INFO, 4, layout))).collect();
      List<String> internal = loaded.queryExecution().toRdd().toJavaRDD()
          .mapPartitions(it -> describe(Batches.internalBatchIterator(it, loadedSchema, INFO, 4, layout))).collect();
      List<String> converted = loaded.queryExecution().toRdd().toJavaRDD()
          .mapPartitions(it -> {
            Iterator<Batch> nhwc = Batches.internalBatchIterator(it, loadedSchema, INFO, 4, Layout.NHWC);
            List<Batch> inLayout = new ArrayList<>();
            nhwc.forEachRemaining(b -> inLayout.add(Batches.inLayout(b, Layout.NHWC, layout, INFO)));
            return describe(inLayout.iterator());
          }).collect();
      assertTrue(external.size() >= 6, layout + ": " + external.size()); // 23 rows in batches of up to 4
      assertEquals(external, internal, layout.toString());
      assertEquals(external, converted, layout.toString());
    }
  }

  @Test
  void badInternalRowsNameTheRowAndWhatIsWrong() {
    org.apache.spark.sql.catalyst.util.ArrayData ok = new org.apache.spark.sql.catalyst.util.GenericArrayData(
        new Object[18]);
    Object[] values = new Object[18];
    java.util.Arrays.fill(values, 0.5f);
    org.apache.spark.sql.catalyst.util.GenericArrayData finite =
        new org.apache.spark.sql.catalyst.util.GenericArrayData(values);
    Object[] infinite = values.clone();
    infinite[3] = Float.POSITIVE_INFINITY;
    Object[][] cases = {
        {ok, 1, 7L, "null at index 0"},
        {new org.apache.spark.sql.catalyst.util.GenericArrayData(new Object[17]), 1, 7L, "found 17 values"},
        {new org.apache.spark.sql.catalyst.util.GenericArrayData(infinite), 1, 7L, "Infinity at index 3"},
        {finite, 4, 7L, "found 4"},
        {null, 1, 7L, "found null"},
    };
    for (Object[] c : cases) {
      org.apache.spark.sql.catalyst.InternalRow row =
          new org.apache.spark.sql.catalyst.expressions.GenericInternalRow(new Object[] {c[0], c[1], c[2]});
      InvalidDatasetException e = assertThrows(InvalidDatasetException.class,
          () -> Batches.internalBatchIterator(List.of(row).iterator(), schema(), INFO, 2, Layout.NHWC).next());
      assertTrue(e.getMessage().contains("row id 7") && e.getMessage().contains((String) c[3]), e.getMessage());
    }
    org.apache.spark.sql.catalyst.InternalRow noId =
        new org.apache.spark.sql.catalyst.expressions.GenericInternalRow(new Object[] {finite, 1, null});
    InvalidDatasetException e = assertThrows(InvalidDatasetException.class,
        () -> Batches.internalBatchIterator(List.of(noId).iterator(), schema(), INFO, 2, Layout.FLAT).next());
    assertTrue(e.getMessage().contains("id") && e.getMessage().contains("null"), e.getMessage());
  }
}
