package io.sparkquant.jobs.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.calib.MinMaxStats;
import io.sparkquant.ops.calib.ModelStats;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.calib.TensorCalibration;
import io.sparkquant.ops.calib.TensorObserver;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;

/**
 * The interpreter-based calibration (float32 export, Java float kernels) against the DL4J-based statistics it
 * replaced, on the same rows: {@link Dl4jActivations#collect} on the DL4J network, folded with
 * {@link TensorObserver}, in one batch. Both compute the same float graph; they differ by float rounding only
 * (BatchNorm folded into the weights vs applied after the convolution, other summation orders, DL4J's tanh/sigmoid).
 */
class CalibratorVsDl4jTest {

  /**
   * Largest difference allowed between the two minima (maxima) of a tensor, relative to the tensor's magnitude
   * max(|min|, |max|): float32 rounding through a few layers (measured: at most 2.3e-7 on these models).
   */
  private static final double FLOAT_ROUNDING_REL = 1e-5;
  private static final int ROWS = 96;
  private static final long DATA_SEED = 21L;

  private final SparkSession spark = SharedSpark.get();

  @Test
  void cnnWithBatchNormDepthwiseSeparableAndTanh() throws IOException {
    assertMatchesDl4j(TestModels.cnnChain(3L), new int[] {10, 10, 3});
  }

  @Test
  void computationGraphWithResidualAddAndBatchNorm() throws IOException {
    assertMatchesDl4j(TestModels.residual(4L, PoolingType.AVG), new int[] {8, 8, 3});
  }

  @Test
  void denseWithBatchNormAndRelu6() throws IOException {
    assertMatchesDl4j(TestModels.mlp(5L), new int[] {20});
  }

  private void assertMatchesDl4j(Model net, int[] shape) throws IOException {
    Graph graph = Dl4jImporter.importModel(net, shape);
    int length = graph.input().itemSize();
    float[] nhwc = new float[ROWS * length];
    Random rnd = new Random(DATA_SEED);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      Float[] f = new Float[length];
      for (int k = 0; k < length; k++) {
        float x = rnd.nextFloat() * 2 - 0.5f;
        f[k] = x;
        nhwc[i * length + k] = x;
      }
      rows.add(RowFactory.create(f, 7L * i + 3));
    }
    StructType schema = new StructType()
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("id", DataTypes.LongType, false);
    Dataset<Row> data = spark.createDataFrame(rows, schema).repartition(3);
    ByteArrayOutputStream zip = new ByteArrayOutputStream();
    ModelSerializer.writeModel(net, zip, false);

    CalibrationTable table = new Calibrator().setModel(zip.toByteArray()).setInputShape(shape)
        .setMethod(RangeMethod.minMax()).fit(data);

    ModelStats<MinMaxStats> dl4jStats = ModelStats.empty();
    TensorObserver.addMinMax(dl4jStats, Dl4jActivations.collect(graph, net,
        Dl4jActivations.toDl4jInput(graph, nhwc, ROWS)));
    CalibrationTable dl4j = CalibrationTable.compute(RangeMethod.minMax(), dl4jStats, null);

    assertEquals(dl4j.tensors().keySet(), table.tensors().keySet(), "the same tensors, under the same names");
    double worst = 0;
    for (TensorCalibration want : dl4j.tensors().values()) {
      TensorCalibration got = table.tensors().get(want.tensor());
      String name = want.tensor();
      assertEquals(want.count(), got.count(), name);
      double magnitude = Math.max(Math.max(Math.abs(want.min()), Math.abs(want.max())), Float.MIN_NORMAL);
      double tolerance = FLOAT_ROUNDING_REL * magnitude;
      worst = Math.max(worst, Math.max(Math.abs(want.min() - got.min()), Math.abs(want.max() - got.max()))
          / magnitude);
      assertEquals(want.min(), got.min(), tolerance, name + " min");
      assertEquals(want.max(), got.max(), tolerance, name + " max");
      // minmax chooses the observed range: the chosen ranges agree as closely
      assertEquals(want.range().min(), got.range().min(), tolerance, name + " chosen range min");
      assertEquals(want.range().max(), got.range().max(), tolerance, name + " chosen range max");
    }
    assertTrue(worst <= FLOAT_ROUNDING_REL, "largest relative difference " + worst);
    System.err.printf("%s: largest relative min/max difference to DL4J %.3g over %d tensors%n", graph.name(),
        worst, table.tensors().size());
  }
}
