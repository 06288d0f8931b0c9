package io.sparkquant.jobs.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.Layout;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A training whose parameters overflow (a huge learning rate) stops with one line naming the epoch and round, and the
 * network keeps the state of its last complete epoch: nothing of the diverged round is averaged in.
 */
class DivergenceTest {

  @Test
  void hugeLearningRateStopsWithEpochAndRoundAndKeepsTheLastGoodState() {
    TensorDataset data = TensorDatasets.load(SharedSpark.get(), TestDatasets.train());
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).updater(new Sgd(1e20)).list()
        .layer(new DenseLayer.Builder().nOut(32).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX)
            .build())
        .setInputType(InputType.feedForward(784))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    float[] initial = net.params().toFloatVector();
    List<EpochStats> epochs = new ArrayList<>();
    ParameterAveragingTrainer.DivergedException e = assertThrows(ParameterAveragingTrainer.DivergedException.class,
        () -> new ParameterAveragingTrainer(new Schedule(2, 32, 2, 3, 0.002, 1.0, 4)).fit(SharedSpark.get(), net,
            "huge learning rate", Layout.FLAT, data.rows().limit(256), null, data.info(),
            (n, stats) -> epochs.add(stats)));
    assertTrue(e.getMessage().startsWith("training diverged in epoch 1, round 1/"), e.getMessage());
    assertTrue(e.getMessage().contains("the last complete epoch is 0"), e.getMessage());
    assertTrue(epochs.isEmpty(), "no epoch completed");
    assertArrayEquals(initial, net.params().toFloatVector(), "the network keeps its last good state");
  }
}
