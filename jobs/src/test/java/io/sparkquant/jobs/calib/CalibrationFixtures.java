package io.sparkquant.jobs.calib;

import io.sparkquant.ops.graph.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/** A small seeded CNN (10x10x3 input) and seeded rows for it. */
final class CalibrationFixtures {

  static final int[] INPUT_SHAPE = {10, 10, 3};
  static final int FEATURES = 300;

  private CalibrationFixtures() {}

  static byte[] cnnModelBytes(long seed) {
    MultiLayerNetwork net = TestModels.cnnChain(seed);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ModelSerializer.writeModel(net, out, false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static StructType schema() {
    return new StructType()
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("label", DataTypes.IntegerType, false)
        .add("id", DataTypes.LongType, false);
  }

  /** {@code n} rows with sparse ids (id = 7 i + 3) and features in [0, 1); {@code badId} gets a NaN (or -1: none). */
  static Dataset<Row> rows(SparkSession spark, int n, long seed, long badId) {
    Random rnd = new Random(seed);
    List<Row> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long id = 7L * i + 3;
      Float[] f = new Float[FEATURES];
      for (int k = 0; k < FEATURES; k++) {
        f[k] = rnd.nextFloat();
      }
      if (id == badId) {
        f[42] = Float.NaN;
      }
      rows.add(RowFactory.create(f, i % 5, id));
    }
    return spark.createDataFrame(rows, schema());
  }
}
