package io.sparkquant.ops.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ModelMetadataTest {

  @Test
  void recordedShapeLetsAConvolutionalGraphImportWithoutAnExplicitOne() throws Exception {
    ComputationGraph cg = TestModels.residual(5, org.deeplearning4j.nn.conf.layers.PoolingType.AVG);
    byte[] plain = zip(cg);
    assertEquals(Optional.empty(), ModelMetadata.read(plain));
    assertEquals(null, Dl4jImporter.recordedInputShape(plain));
    assertThrows(Dl4jImporter.InputShapeRequiredException.class,
        () -> Dl4jImporter.importModel(Dl4jImporter.load(plain), null));

    ModelMetadata meta = new ModelMetadata(new int[] {8, 8, 3}, List.of("a", "b", "c"));
    byte[] withMeta = meta.addTo(plain);
    assertEquals(meta, ModelMetadata.read(withMeta).orElseThrow());
    int[] shape = Dl4jImporter.recordedInputShape(withMeta);
    assertArrayEquals(new int[] {8, 8, 3}, shape);
    Graph graph = Dl4jImporter.importModel(Dl4jImporter.load(withMeta), shape);
    assertArrayEquals(new int[] {1, 8, 8, 3}, graph.input().shape());

    // DL4J still restores the zip, with the same parameters; adding the entry twice keeps one.
    ComputationGraph restored = (ComputationGraph) Dl4jImporter.load(withMeta);
    assertEquals(cg.params(), restored.params());
    INDArray x = Nd4j.rand(new int[] {2, 3, 8, 8});
    assertEquals(cg.outputSingle(x), restored.outputSingle(x));
    byte[] twice = new ModelMetadata(new int[] {8, 8, 3}, List.of()).addTo(withMeta);
    assertEquals(List.of(), ModelMetadata.read(twice).orElseThrow().classNames());
  }

  @Test
  void networkZipRoundTripsAndBadMetadataIsRejected() throws Exception {
    MultiLayerNetwork net = TestModels.cnnChain(3);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ModelSerializer.writeModel(net, out, true);
    byte[] withMeta = new ModelMetadata(new int[] {300}, List.of("x")).addTo(out.toByteArray());
    assertEquals(net.params(), ((MultiLayerNetwork) Dl4jImporter.load(withMeta)).params());
    assertArrayEquals(new int[] {300}, Dl4jImporter.recordedInputShape(withMeta));

    assertThrows(IllegalArgumentException.class, () -> new ModelMetadata(new int[] {28, 0, 1}, List.of()));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelMetadata.fromJson(
        "{\"format\":\"other\",\"version\":1,\"inputShape\":[1]}".getBytes())).getMessage().contains("format"));
    assertThrows(IllegalArgumentException.class, () -> ModelMetadata.fromJson(
        ("{\"format\":\"" + ModelMetadata.FORMAT + "\",\"version\":1,\"inputShape\":\"28\"}").getBytes()));
  }

  private static byte[] zip(ComputationGraph cg) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ModelSerializer.writeModel(cg, out, false);
    return out.toByteArray();
  }
}
