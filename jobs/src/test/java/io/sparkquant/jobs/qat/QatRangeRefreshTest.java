package io.sparkquant.jobs.qat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.qat.QatNetwork;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The range refresh observes the fake-quant network with its hooks off through the calibrator: on an untrained QAT
 * network that is the source model's float function, so with momentum 0 it finds the source model's own calibrated
 * ranges; and the refreshed ranges do not depend on how the rows are partitioned.
 */
class QatRangeRefreshTest {

  private static final int ROWS = 100;
  private static final long SEED = 42;
  /** DL4J's NCHW ComputationGraph and the source MultiLayerNetwork may differ in the last float bits. */
  private static final float RELATIVE_TOLERANCE = 1e-4f;

  @Test
  void refreshOfTheUntrainedNetworkFindsTheCalibrationAndIgnoresPartitioning() throws Exception {
    byte[] model = Files.readAllBytes(Path.of(QatFixtures.cnnModel()));
    Graph graph = Dl4jImporter.importModel(Dl4jImporter.load(model), Dl4jImporter.recordedInputShape(model));
    Dataset<Row> rows = TensorDatasets.load(SharedSpark.get(), TestDatasets.train()).rows();
    CalibrationTable table = sample().setModel(model).fit(rows);
    QatNetwork qat = QatNetwork.build(graph, table.toActivationRanges(), QatNetwork.Options.defaults());

    ActivationRanges observed = QatJob.refreshedRanges(qat, sample(), rows.repartition(1), 0);
    for (Map.Entry<String, float[]> e : qat.ranges().asMap().entrySet()) {
      float[] calibrated = e.getValue();
      float[] seen = observed.get(e.getKey()).orElseThrow();
      for (int i = 0; i < 2; i++) {
        float scale = Math.max(Math.abs(calibrated[0]), Math.abs(calibrated[1]));
        assertEquals(calibrated[i], seen[i], RELATIVE_TOLERANCE * scale, e.getKey() + " " + (i == 0 ? "min" : "max"));
      }
    }

    Map<String, float[]> onePartition = QatJob.refreshedRanges(qat, sample(), rows.repartition(1), 0.5).asMap();
    Map<String, float[]> threePartitions = QatJob.refreshedRanges(qat, sample(), rows.repartition(3), 0.5).asMap();
    assertEquals(onePartition.keySet(), threePartitions.keySet());
    onePartition.forEach((tensor, r) -> assertArrayEquals(r, threePartitions.get(tensor), tensor));
  }

  private static Calibrator sample() {
    return new Calibrator().setSampleRows(ROWS).setSeed(SEED);
  }
}
