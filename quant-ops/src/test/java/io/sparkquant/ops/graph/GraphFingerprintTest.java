package io.sparkquant.ops.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.calib.MinMaxStats;
import io.sparkquant.ops.calib.ModelStats;
import io.sparkquant.ops.calib.RangeMethod;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

/** The model identity a calibration table records, and the dense-first-layer import with a recorded item shape. */
class GraphFingerprintTest {

  @Test
  void sameModelSameFingerprintOtherWeightsAnother() {
    Graph a = Dl4jImporter.importModel(TestModels.mlp(1), null);
    Graph again = Dl4jImporter.importModel(TestModels.mlp(1), null);
    Graph other = Dl4jImporter.importModel(TestModels.mlp(2), null);
    assertEquals(a.fingerprint(), again.fingerprint());
    assertTrue(a.fingerprint().matches("[0-9a-f]{64}"), a.fingerprint());
    assertEquals(a.tensors().stream().map(GraphTensor::name).toList(),
        other.tensors().stream().map(GraphTensor::name).toList(), "same architecture, same tensor names");
    assertNotEquals(a.fingerprint(), other.fingerprint());
    assertNotEquals(Dl4jImporter.importModel(TestModels.cnnChain(7), null).fingerprint(), a.fingerprint());
  }

  @Test
  void denseFirstLayerWithRecordedItemShapeIsFeedForward() {
    MultiLayerNetwork mlp = TestModels.mlp(1); // nIn 20
    Graph g = Dl4jImporter.importModel(mlp, new int[] {5, 4, 1});
    assertArrayEquals(new int[] {1, 20}, g.input().shape());
    assertEquals(Dl4jInputLayout.FEED_FORWARD, g.dl4jInputLayout());
    assertEquals(Dl4jImporter.importModel(mlp, null).fingerprint(), g.fingerprint());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Dl4jImporter.importModel(mlp, new int[] {5, 5, 1}));
    assertTrue(e.getMessage().contains("[5, 5, 1] holds 25 values; the first layer takes 20"), e.getMessage());
  }

  @Test
  void tableRecordsTheFingerprintAndRefusesAnotherModel() {
    String mine = Dl4jImporter.importModel(TestModels.mlp(1), null).fingerprint();
    String theirs = Dl4jImporter.importModel(TestModels.mlp(2), null).fingerprint();
    ModelStats<MinMaxStats> stats = ModelStats.<MinMaxStats>empty()
        .add("input", MinMaxStats.empty().addAll(new float[] {-1f, 2f}));
    CalibrationTable table = CalibrationTable.compute(RangeMethod.parse("minmax", null), stats, null)
        .withModelFingerprint(mine);
    CalibrationTable read = CalibrationTable.fromJson(table.toJson());
    assertEquals(mine, read.modelFingerprint());
    assertTrue(read.checkComputedOn(mine, "t.json", "a.zip"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> read.checkComputedOn(theirs, "t.json", "b.zip"));
    assertTrue(e.getMessage().contains("t.json") && e.getMessage().contains("b.zip")
        && e.getMessage().contains(mine) && e.getMessage().contains(theirs), e.getMessage());
    CalibrationTable old = CalibrationTable.fromJson(table.toJson().replaceFirst("\"modelFingerprint\" : \"[0-9a-f]+\",",
        ""));
    assertEquals(null, old.modelFingerprint());
    assertEquals(false, old.checkComputedOn(theirs, "t.json", "b.zip"));
  }
}
