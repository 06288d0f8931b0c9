package io.sparkquant.data.tools;

import io.sparkquant.data.Batch;
import io.sparkquant.data.Batches;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.IdxConverter;
import io.sparkquant.data.Layout;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Measures IDX conversion and batch streaming on Fashion-MNIST train (60,000 x 784) in local[2]:
 * <pre>
 * mvn -o -q -B -pl dataset-io test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java $(opens) -cp dataset-io/target/classes:dataset-io/target/test-classes:$(cat /tmp/cp.txt) \
 *   io.sparkquant.data.tools.DatasetIoBench /tmp/bench-dir
 * </pre>
 */
public final class DatasetIoBench {

  private DatasetIoBench() {}

  /** Counts rows by streaming FLAT batches of 256; returns one count per partition. */
  record CountBatches(io.sparkquant.data.DatasetInfo info) implements FlatMapFunction<Iterator<Row>, Long> {
    @Override
    public Iterator<Long> call(Iterator<Row> rows) {
      long n = 0;
      Iterator<Batch> it = Batches.batchIterator(rows, info, 256, Layout.FLAT);
      while (it.hasNext()) {
        n += it.next().size();
      }
      return List.of(n).iterator();
    }
  }

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[0]);
    Files.createDirectories(work);
    SparkSession spark = SharedSpark.get();
    FashionMnist.Location loc = FashionMnist.locate(null);
    String out = work.resolve("train-" + System.nanoTime()).toString();
    long t0 = System.nanoTime();
    long rows = IdxConverter.convert(spark, loc.trainImages(), loc.trainLabels(), out, FashionMnist.CLASS_NAMES, 2);
    long t1 = System.nanoTime();
    System.out.printf("convert: %d rows in %.1f s (%.0f rows/s), source %s%n", rows, (t1 - t0) / 1e9,
        rows / ((t1 - t0) / 1e9), loc.source());
    for (int rep = 0; rep < 3; rep++) {
      TensorDataset ds = TensorDatasets.load(spark, out);
      long s0 = System.nanoTime();
      long n = ds.rows().toJavaRDD().mapPartitions(new CountBatches(ds.info())).collect().stream()
          .mapToLong(Long::longValue).sum();
      long s1 = System.nanoTime();
      long m = spark.read().parquet(out).toJavaRDD().mapPartitions(new CountBatches(ds.info())).collect().stream()
          .mapToLong(Long::longValue).sum();
      long s2 = System.nanoTime();
      System.out.printf("batches (FLAT, 256): load() with row checks %d rows %.0f rows/s; plain spark.read %d rows"
          + " %.0f rows/s%n", n, n / ((s1 - s0) / 1e9), m, m / ((s2 - s1) / 1e9));
    }
  }
}
