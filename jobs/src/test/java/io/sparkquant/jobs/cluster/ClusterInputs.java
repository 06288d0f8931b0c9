package io.sparkquant.jobs.cluster;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.ops.graph.TestModels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.util.ModelSerializer;

/**
 * Inputs that the cluster ITs write into their work directory before they submit: a model and datasets, made in the
 * test JVM (on the shared local[2] session) so that only the job under test runs through spark-submit.
 */
final class ClusterInputs {

  /** Rows of {@link #gaussianDataset}. */
  static final int GAUSSIAN_ROWS = 600;

  private static final int[] GAUSSIAN_SHAPE = {10, 10, 3};
  private static final int GAUSSIAN_FILES = 4;

  private ClusterInputs() {}

  /** {@code TestModels.cnnChain(21)}, a float CNN for 10x10x3 inputs, as a ModelSerializer zip {@code dir/cnn.zip}. */
  static Path cnnModel(Path dir) throws IOException {
    Path model = dir.resolve("cnn.zip");
    ModelSerializer.writeModel(TestModels.cnnChain(21), model.toFile(), false);
    return model;
  }

  /**
   * {@value #GAUSSIAN_ROWS} labelled rows of 10x10x3 features, written to {@code out} in 4 files: row {@code i} has
   * label {@code i % classes} (classes named a, b, c, ...), id {@code firstId + 3 i}, and standard normal features
   * (drawn from {@code new Random(seed)}) plus {@code label * signal}, so that a non-zero signal gives training
   * something to learn.
   */
  static Path gaussianDataset(Path out, long seed, int classes, long firstId, float signal) {
    StructType schema = new StructType()
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("label", DataTypes.IntegerType, false)
        .add("id", DataTypes.LongType, false);
    int featureCount = GAUSSIAN_SHAPE[0] * GAUSSIAN_SHAPE[1] * GAUSSIAN_SHAPE[2];
    Random rnd = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < GAUSSIAN_ROWS; i++) {
      int label = i % classes;
      Float[] f = new Float[featureCount];
      for (int k = 0; k < f.length; k++) {
        f[k] = (float) rnd.nextGaussian() + label * signal;
      }
      rows.add(RowFactory.create(f, label, firstId + 3L * i));
    }
    List<String> classNames = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      classNames.add(String.valueOf((char) ('a' + c)));
    }
    TensorDatasets.write(SharedSpark.get().createDataFrame(rows, schema).repartition(GAUSSIAN_FILES),
        new DatasetInfo(GAUSSIAN_SHAPE, classNames), out.toString(), Map.of());
    return out;
  }

  /**
   * The first {@code rows} rows of {@code source} by id, written to {@code out} in {@code files} files as a dataset of
   * their own, keeping only {@code columns} (all columns when none are given). A dataset of its own, because Spark's
   * limit() keeps whichever rows reach its single partition first, which on a cluster depends on the order shuffle
   * blocks arrive in: a job's own {@code --limit} would give a cluster run and a local run different rows.
   */
  static Path firstRowsById(TensorDataset source, int rows, int files, Path out, String... columns) {
    Dataset<Row> first = source.rows().orderBy(TensorDatasets.ID).limit(rows);
    if (columns.length > 0) {
      first = first.select(Arrays.stream(columns).map(functions::col).toArray(Column[]::new));
    }
    TensorDatasets.write(first.repartition(files), source.info(), out.toString(), Map.of());
    return out;
  }
}
