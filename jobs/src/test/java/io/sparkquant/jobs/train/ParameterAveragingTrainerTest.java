package io.sparkquant.jobs.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Distributed training on the bundled Fashion-MNIST subset in local[2]. */
class ParameterAveragingTrainerTest {

  /** Chance is 0.1 on ten balanced classes. */
  private static final double MIN_HELD_OUT_ACCURACY = 0.6;

  @Test
  void sameSeedAndPartitioningGiveIdenticalParameters() {
    TensorDataset data = TensorDatasets.load(SharedSpark.get(), TestDatasets.train());
    Dataset<Row> rows = data.rows().limit(320);
    TrainConfig config = new TrainConfig(Preset.CNN, 1, 32, 2, 7, 0.002, 0.7, 2);
    float[] first = train(config, rows, data).network().params().toFloatVector();
    float[] second = train(config, rows, data).network().params().toFloatVector();
    assertArrayEquals(first, second, "same seed, data and partitioning");

    TrainConfig otherSeed = new TrainConfig(Preset.CNN, 1, 32, 2, 8, 0.002, 0.7, 2);
    float[] third = train(otherSeed, rows, data).network().params().toFloatVector();
    assertFalse(Arrays.equals(first, third), "a different seed must give a different model");
  }

  @Test
  void learningRateDecaysAfterEveryEpochOnTheWorkers() {
    TensorDataset data = TensorDatasets.load(SharedSpark.get(), TestDatasets.train());
    Dataset<Row> rows = data.rows().limit(256);
    // The decay applies from the second epoch: one epoch is the same with or without it, two are not.
    assertArrayEquals(params(new TrainConfig(Preset.MLP, 1, 32, 2, 5, 0.002, 1.0, 2), rows, data),
        params(new TrainConfig(Preset.MLP, 1, 32, 2, 5, 0.002, 0.5, 2), rows, data));
    assertFalse(Arrays.equals(params(new TrainConfig(Preset.MLP, 2, 32, 2, 5, 0.002, 1.0, 2), rows, data),
        params(new TrainConfig(Preset.MLP, 2, 32, 2, 5, 0.002, 0.5, 2), rows, data)));
  }

  private static float[] params(TrainConfig config, Dataset<Row> rows, TensorDataset data) {
    return train(config, rows, data).network().params().toFloatVector();
  }

  @Test
  void mlpLearnsTheSubset() {
    TensorDataset train = TensorDatasets.load(SharedSpark.get(), TestDatasets.train());
    List<EpochStats> progress = new ArrayList<>();
    ParameterAveragingTrainer.Result<MultiLayerNetwork> result = new ParameterAveragingTrainer(
        new TrainConfig(Preset.MLP, 3, 64, 2, 42, 0.002, 0.7, 4)).fit(SharedSpark.get(), train.rows(), train.info(),
        progress::add);

    assertEquals(3, progress.size());
    assertEquals(result.epochs(), progress);
    assertEquals(6000, result.rows());
    for (EpochStats s : progress) {
      assertEquals(6000, s.samples(), "every row once per epoch");
      assertTrue(s.samplesPerSecond() > 0);
    }
    assertTrue(progress.get(2).meanLoss() < progress.get(0).meanLoss() * 0.8,
        "loss should fall: " + progress);

    // held-out accuracy, counted on the driver from the test subset (2000 rows)
    TensorDataset test = TensorDatasets.load(SharedSpark.get(), TestDatasets.test());
    List<Row> rows = test.rows().collectAsList();
    int featureLength = test.info().featureLength();
    float[] features = new float[rows.size() * featureLength];
    int[] labels = new int[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      List<Float> f = rows.get(i).getList(rows.get(i).fieldIndex("features"));
      for (int j = 0; j < featureLength; j++) {
        features[i * featureLength + j] = f.get(j);
      }
      labels[i] = rows.get(i).getInt(rows.get(i).fieldIndex("label"));
    }
    INDArray predicted = result.network().output(Nd4j.create(features, new long[] {rows.size(), featureLength}))
        .argMax(1);
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      correct += predicted.getInt(i) == labels[i] ? 1 : 0;
    }
    double accuracy = (double) correct / labels.length;
    assertTrue(accuracy > MIN_HELD_OUT_ACCURACY, "held-out accuracy " + accuracy);
  }

  private static ParameterAveragingTrainer.Result<MultiLayerNetwork> train(TrainConfig config, Dataset<Row> rows, TensorDataset data) {
    return new ParameterAveragingTrainer(config).fit(SharedSpark.get(), rows, data.info(), s -> { });
  }
}
