package io.sparkquant.jobs.train;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.Layout;
import java.util.Arrays;
import java.util.Locale;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The float baselines the project trains itself (DESIGN.md "Models in"). Only layers the quant-ops importer
 * handles: convolution, depthwise convolution, batch norm (folded on import), ReLU, max and global average pooling,
 * dense, softmax output.
 */
public enum Preset {

  /**
   * conv3x3(32)-BN-ReLU-maxpool2 - conv3x3(64)-BN-ReLU-maxpool2 - dense(128, ReLU) - dense(classes, softmax).
   * Needs an image shape (H, W, C).
   */
  CNN(Layout.NCHW) {
    @Override
    MultiLayerConfiguration configure(NeuralNetConfiguration.Builder base, int[] hwc, int numClasses) {
      requireImage(this, hwc);
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

  /**
   * A microcontroller-size depthwise-separable network (14,954 parameters on 28x28x1 with 10 classes, BN statistics
   * included): conv3x3(16, stride 2)-BN-ReLU, then three blocks of depthwise 3x3-BN-ReLU - pointwise 1x1-BN-ReLU
   * (32 channels stride 1, 64 stride 2, 128 stride 2), global average pooling, dense(classes, softmax). Same
   * padding throughout. Depthwise + 1x1 convolution rather than SeparableConvolution2D, so BN and ReLU sit
   * between them as in MobileNet. Needs an image shape (H, W, C).
   */
  MICRO(Layout.NCHW) {
    @Override
    MultiLayerConfiguration configure(NeuralNetConfiguration.Builder base, int[] hwc, int numClasses) {
      requireImage(this, hwc);
      NeuralNetConfiguration.ListBuilder list = base.convolutionMode(ConvolutionMode.Same).list()
          .layer(new ConvolutionLayer.Builder(3, 3).stride(2, 2).nOut(16).activation(Activation.IDENTITY).build())
          .layer(new BatchNormalization.Builder().build())
          .layer(new ActivationLayer.Builder().activation(Activation.RELU).build());
      int[][] blocks = {{32, 1}, {64, 2}, {128, 2}}; // pointwise channels, depthwise stride
      for (int[] b : blocks) {
        list.layer(new DepthwiseConvolution2D.Builder(3, 3).stride(b[1], b[1]).depthMultiplier(1)
                .activation(Activation.IDENTITY).build())
            .layer(new BatchNormalization.Builder().build())
            .layer(new ActivationLayer.Builder().activation(Activation.RELU).build())
            .layer(new ConvolutionLayer.Builder(1, 1).nOut(b[0]).activation(Activation.IDENTITY).build())
            .layer(new BatchNormalization.Builder().build())
            .layer(new ActivationLayer.Builder().activation(Activation.RELU).build());
      }
      return list
          .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
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

  /** The command-line name: {@code cnn}, {@code micro} or {@code mlp}. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Preset fromCliName(String name) {
    for (Preset p : values()) {
      if (p.cliName().equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException("Unknown preset '" + name + "'; valid: cnn, micro, mlp");
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

  private static void requireImage(Preset p, int[] shape) {
    if (shape.length != 3) {
      throw new IllegalArgumentException("Preset " + p.cliName() + " needs an image dataset of shape (height, width,"
          + " channels); the dataset has shape " + Arrays.toString(shape) + "; use --preset mlp");
    }
  }

  abstract MultiLayerConfiguration configure(NeuralNetConfiguration.Builder base, int[] shape, int numClasses);
}
