package io.sparkquant.jobs.train;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.Layout;
import java.util.Locale;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The float baselines the project trains itself (DESIGN.md "Models in"). Only layers the quant-ops importer
 * handles: convolution, batch norm (folded on import), ReLU, max pooling, dense, softmax output.
 */
public enum Preset {

  /**
   * conv3x3(32)-BN-ReLU-maxpool2 - conv3x3(64)-BN-ReLU-maxpool2 - dense(128, ReLU) - dense(classes, softmax).
   * Needs an image shape (H, W, C).
   */
  CNN(Layout.NCHW) {
    @Override
    MultiLayerConfiguration configure(NeuralNetConfiguration.Builder base, int[] hwc, int numClasses) {
      if (hwc.length != 3) {
        throw new IllegalArgumentException("Preset cnn needs an image dataset of shape (height, width,"
            + " channels); the dataset has shape " + java.util.Arrays.toString(hwc) + "; use --preset mlp");
      }
      return base.list()
          .layer(new ConvolutionLayer.Builder(3, 3).nOut(32).activation(Activation.IDENTITY).build())
          .layer(new BatchNormalization.Builder().build())
          .layer(new ActivationLayer.Builder().activation(Activation.RELU).build())
          .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
          .layer(new ConvolutionLayer.Builder(3, 3).nOut(64).activation(Activation.IDENTITY).build())
          .layer(new BatchNormalization.Builder().build())
          .layer(new ActivationLayer.Builder().activation(Activation.RELU).build())
          .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
          .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build())
          .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
              .nOut(numClasses).activation(Activation.SOFTMAX).build())
          .setInputType(InputType.convolutional(hwc[0], hwc[1], hwc[2], CNN2DFormat.NCHW))
          .build();
    }
  },

  /** dense(256, ReLU) - dense(128, ReLU) - dense(classes, softmax) on the flattened features. */
  MLP(Layout.FLAT) {
    @Override
    MultiLayerConfiguration configure(NeuralNetConfiguration.Builder base, int[] shape, int numClasses) {
      long inputs = 1;
      for (int d : shape) {
        inputs *= d;
      }
      return base.list()
          .layer(new DenseLayer.Builder().nOut(256).activation(Activation.RELU).build())
          .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build())
          .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
              .nOut(numClasses).activation(Activation.SOFTMAX).build())
          .setInputType(InputType.feedForward(inputs))
          .build();
    }
  };

  private final Layout layout;

  Preset(Layout layout) {
    this.layout = layout;
  }

  /** The batch layout the network expects from {@code Batches.iterator}. */
  public Layout layout() {
    return layout;
  }

  /** The command-line name: {@code cnn} or {@code mlp}. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Preset fromCliName(String name) {
    for (Preset p : values()) {
      if (p.cliName().equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException("Unknown preset '" + name + "'; valid: cnn, mlp");
  }

  /**
   * The network configuration for a dataset: He init, seeded, Adam whose learning rate starts at
   * {@code learningRate} and is multiplied by {@code decay} after every epoch (the trainer sets the epoch
   * count on every worker's copy, so the schedule follows the global epoch).
   */
  public MultiLayerConfiguration configuration(DatasetInfo info, long seed, double learningRate, double decay) {
    NeuralNetConfiguration.Builder base = new NeuralNetConfiguration.Builder()
        .seed(seed)
        .weightInit(WeightInit.RELU)
        .updater(new Adam(new ExponentialSchedule(ScheduleType.EPOCH, learningRate, decay)));
    return configure(base, info.shape(), info.classNames().size());
  }

  abstract MultiLayerConfiguration configure(NeuralNetConfiguration.Builder base, int[] shape, int numClasses);
}
