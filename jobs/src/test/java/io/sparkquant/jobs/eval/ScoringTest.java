package io.sparkquant.jobs.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.spark.ExecutorCache;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Scoring on the executors gives what the model itself computes on the driver, restoring the model once per JVM. */
class ScoringTest {

  /** Row results may differ in the last bits between batch compositions (GEMM blocking). */
  private static final double PROBABILITY_TOLERANCE = 1e-5;

  @Test
  void computationGraphIsScoredLikeTheGraphItselfAndRestoredOncePerJvm() throws Exception {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).graphBuilder()
        .addInputs("image")
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).stride(2, 2)
            .activation(Activation.RELU).build(), "image")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
            .activation(Activation.SOFTMAX).build(), "conv")
        .setOutputs("out")
        .setInputTypes(InputType.convolutional(28, 28, 1, CNN2DFormat.NCHW))
        .build();
    ComputationGraph graph = new ComputationGraph(conf);
    graph.init();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ModelSerializer.writeModel(graph, bytes, false);

    byte[] modelBytes = bytes.toByteArray();
    String cacheKey = Scoring.cacheKey(ExecutorCache.sha256(modelBytes), ModelFormat.DL4J, TfliteEngine.JAVA);
    assertEquals(0, ExecutorCache.loads(cacheKey), "this model is new to the JVM");

    TensorDataset test = TensorDatasets.load(SharedSpark.get(), TestDatasets.test());
    Dataset<Row> rows = test.rows().limit(50);
    List<Row> inputs = rows.orderBy("id").collectAsList();
    // Two jobs, each with its own broadcast: the executor (this JVM, local mode) restores the model once.
    for (int run = 1; run <= 2; run++) {
      Scoring.Scored scored = Scoring.predictions(SharedSpark.get(), modelBytes, "graph.zip", rows, test.info(), 16);
      List<Row> predictions = scored.predictions().orderBy("id").collectAsList();
      scored.destroy();
      assertEquals(50, predictions.size());
      for (int i = 0; i < inputs.size(); i++) {
        List<Float> f = inputs.get(i).getList(inputs.get(i).fieldIndex("features"));
        float[] x = new float[f.size()];
        for (int j = 0; j < x.length; j++) {
          x[j] = f.get(j);
        }
        // HWC with one channel is the same memory as NCHW [1, 1, 28, 28]
        float[] expected = graph.outputSingle(Nd4j.create(x, new long[] {1, 1, 28, 28})).toFloatVector();
        List<Float> actual = predictions.get(i).getList(predictions.get(i).fieldIndex("probability"));
        assertEquals(inputs.get(i).getLong(inputs.get(i).fieldIndex("id")), predictions.get(i).getLong(0));
        for (int k = 0; k < expected.length; k++) {
          assertEquals(expected[k], actual.get(k), PROBABILITY_TOLERANCE, "run " + run + " row " + i + " class " + k);
        }
      }
      assertEquals(1, ExecutorCache.loads(cacheKey), "model restorations in this JVM after run " + run);
    }
  }

  @Test
  void unknownModelBytesAreRejectedWithTheName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelFormat.detect(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, "weights.bin"));
    assertTrue(e.getMessage().contains("weights.bin"), e.getMessage());
  }
}
