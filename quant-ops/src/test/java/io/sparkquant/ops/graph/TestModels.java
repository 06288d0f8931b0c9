package io.sparkquant.ops.graph;

import java.util.Random;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Small seeded DL4J models covering every importer path (random init; BN statistics set to non-trivial values). */
public final class TestModels {

  private TestModels() {}

  /**
   * MLN on convolutionalFlat(10, 10, 3): conv+BN+ActivationLayer(relu), depthwise (relu6, Truncate), separable
   * (tanh, Same), max pool (Same), avg pool (Truncate), dense (sigmoid) after the CNN flatten, softmax output.
   */
  public static MultiLayerNetwork cnnChain(long seed) {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).list()
        .layer(new ConvolutionLayer.Builder(3, 3).name("conv1").nOut(6).activation(Activation.IDENTITY)
            .convolutionMode(ConvolutionMode.Same).build())
        .layer(new BatchNormalization.Builder().name("bn1").build())
        .layer(new ActivationLayer.Builder().name("relu1").activation(Activation.RELU).build())
        .layer(new DepthwiseConvolution2D.Builder(3, 3).name("dw").depthMultiplier(2).activation(Activation.RELU6)
            .convolutionMode(ConvolutionMode.Truncate).build())
        .layer(new SeparableConvolution2D.Builder(3, 3).name("sep").nOut(8).depthMultiplier(1)
            .activation(Activation.TANH).convolutionMode(ConvolutionMode.Same).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).name("maxpool").kernelSize(2, 2).stride(2, 2)
            .convolutionMode(ConvolutionMode.Same).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.AVG).name("avgpool").kernelSize(2, 2).stride(1, 1)
            .convolutionMode(ConvolutionMode.Truncate).build())
        .layer(new DenseLayer.Builder().name("fc1").nOut(12).activation(Activation.SIGMOID).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(5)
            .activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutionalFlat(10, 10, 3))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    randomizeBatchNorm(net.getLayer(1).paramTable(), seed);
    return net;
  }

  /** MLN with BN after a dense layer and relu6 dense, on a feed-forward input of 20. */
  public static MultiLayerNetwork mlp(long seed) {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).list()
        .layer(new DenseLayer.Builder().name("fc1").nIn(20).nOut(16).activation(Activation.IDENTITY).build())
        .layer(new BatchNormalization.Builder().name("bn").build())
        .layer(new ActivationLayer.Builder().name("act").activation(Activation.RELU6).build())
        .layer(new DenseLayer.Builder().name("fc2").nOut(10).activation(Activation.TANH).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(4)
            .activation(Activation.SOFTMAX).build())
        .setInputType(InputType.feedForward(20))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    randomizeBatchNorm(net.getLayer(1).paramTable(), seed);
    return net;
  }

  /**
   * ComputationGraph on convolutional(8, 8, 3) (NCHW input, no recorded shape): a residual block
   * conv(relu) -> conv -> BN, Add with the first conv, ActivationLayer relu (fused into ADD), global pooling, softmax.
   */
  public static ComputationGraph residual(long seed, PoolingType globalPooling) {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).graphBuilder()
        .addInputs("in")
        .addLayer("c1", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU)
            .convolutionMode(ConvolutionMode.Same).build(), "in")
        .addLayer("c2", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.IDENTITY)
            .convolutionMode(ConvolutionMode.Same).build(), "c1")
        .addLayer("bn2", new BatchNormalization.Builder().build(), "c2")
        .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "c1", "bn2")
        .addLayer("relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), "add")
        .addLayer("pool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(),
            "relu")
        .addLayer("gp", new GlobalPoolingLayer.Builder(globalPooling).build(), "pool")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "gp")
        .setOutputs("out")
        .setInputTypes(InputType.convolutional(8, 8, 3))
        .build();
    ComputationGraph cg = new ComputationGraph(conf);
    cg.init();
    randomizeBatchNorm(cg.getLayer("bn2").paramTable(), seed);
    return cg;
  }

  /**
   * MLN on convolutionalFlat(9, 9, 2): conv (relu6), average pooling with Same padding that really pads (kernel 3,
   * stride 2 on 9x9), global average pooling (MEAN), softmax output; no ADD, so every mode including 16x8 applies.
   *
   * @param includePadInDivisor DL4J's avgPoolIncludePadInDivisor (TFLite excludes padded cells: false matches)
   */
  public static MultiLayerNetwork globalAverage(long seed, boolean includePadInDivisor) {
    SubsamplingLayer avg = new SubsamplingLayer.Builder(PoolingType.AVG).name("avgpool").kernelSize(3, 3)
        .stride(2, 2).convolutionMode(ConvolutionMode.Same).build();
    avg.setAvgPoolIncludePadInDivisor(includePadInDivisor);
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).list()
        .layer(new ConvolutionLayer.Builder(3, 3).name("conv").nOut(6).activation(Activation.RELU6)
            .convolutionMode(ConvolutionMode.Same).build())
        .layer(avg)
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).name("gap").build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(4)
            .activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutionalFlat(9, 9, 2))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    return net;
  }

  /**
   * MLN on convolutionalFlat(9, 9, 2): ZeroPaddingLayer at the input (PAD), conv with leaky relu (CONV_2D + LEAKY_RELU),
   * DropoutLayer (identity), Upsampling2D x2 (RESIZE_NEAREST_NEIGHBOR), max pooling, ActivationLayer tanh after the
   * pool (standalone TANH), ActivationLayer leaky relu 0.2 (LEAKY_RELU), conv (relu fused, with dropout set),
   * global max pooling, softmax output.
   */
  public static MultiLayerNetwork layersChain(long seed) {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).list()
        .layer(new ZeroPaddingLayer.Builder(1, 2, 2, 0).name("pad").build())
        .layer(new ConvolutionLayer.Builder(3, 3).name("conv1").nOut(4).activation(Activation.LEAKYRELU)
            .convolutionMode(ConvolutionMode.Truncate).build())
        .layer(new DropoutLayer.Builder(0.5).name("drop").build())
        .layer(new Upsampling2D.Builder(2).name("up").build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).name("pool").kernelSize(3, 3).stride(2, 2)
            .convolutionMode(ConvolutionMode.Truncate).build())
        .layer(new ActivationLayer.Builder().name("tanh").activation(Activation.TANH).build())
        .layer(new ActivationLayer.Builder().name("lrelu")
            .activation(new org.nd4j.linalg.activations.impl.ActivationLReLU(0.2)).build())
        .layer(new ConvolutionLayer.Builder(3, 3).name("conv2").nOut(5).activation(Activation.RELU).dropOut(0.8)
            .convolutionMode(ConvolutionMode.Same).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.MAX).name("gmp").build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(4)
            .activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutionalFlat(9, 9, 2))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    return net;
  }

  /**
   * ComputationGraph on convolutional(8, 8, 3) (give the shape): ActivationLayer relu6 on the network input (standalone
   * RELU6), two convs of different ranges merged along channels (MergeVertex: CONCATENATION with a requantized
   * input), a conv added to the merge (ADD) then ActivationLayer sigmoid (standalone LOGISTIC after ADD),
   * Upsampling2D x2, global average pooling, softmax.
   */
  public static ComputationGraph concatGraph(long seed) {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).graphBuilder()
        .addInputs("in")
        .addLayer("relu6", new ActivationLayer.Builder().activation(Activation.RELU6).build(), "in")
        .addLayer("a", new ConvolutionLayer.Builder(3, 3).nOut(3).activation(Activation.RELU)
            .convolutionMode(ConvolutionMode.Same).build(), "relu6")
        .addLayer("b", new ConvolutionLayer.Builder(1, 1).nOut(2).activation(Activation.IDENTITY)
            .convolutionMode(ConvolutionMode.Same).build(), "relu6")
        .addVertex("merge", new MergeVertex(), "a", "b")
        .addLayer("c", new ConvolutionLayer.Builder(3, 3).nOut(5).activation(Activation.IDENTITY)
            .convolutionMode(ConvolutionMode.Same).build(), "merge")
        .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "merge", "c")
        .addLayer("sig", new ActivationLayer.Builder().activation(Activation.SIGMOID).build(), "add")
        .addLayer("up", new Upsampling2D.Builder(2).build(), "sig")
        .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "up")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "gap")
        .setOutputs("out")
        .setInputTypes(InputType.convolutional(8, 8, 3))
        .build();
    ComputationGraph cg = new ComputationGraph(conf);
    cg.init();
    return cg;
  }

  static void randomizeBatchNorm(java.util.Map<String, INDArray> params, long seed) {
    Random r = new Random(seed);
    for (var e : params.entrySet()) {
      INDArray p = e.getValue();
      for (long i = 0; i < p.length(); i++) {
        double v = switch (e.getKey()) {
          case BatchNormalizationParamInitializer.GAMMA -> 0.5 + r.nextDouble();
          case BatchNormalizationParamInitializer.BETA, BatchNormalizationParamInitializer.GLOBAL_MEAN ->
              r.nextGaussian() * 0.3;
          case BatchNormalizationParamInitializer.GLOBAL_VAR -> 0.3 + r.nextDouble();
          case BatchNormalizationParamInitializer.GLOBAL_LOG_STD -> (r.nextDouble() - 0.5) * 0.6;
          default -> p.getDouble(i);
        };
        p.putScalar(i, v);
      }
    }
  }

  /** A seeded NHWC batch in [0, 1) for the graph's input. */
  public static float[] randomInput(Graph g, int batch, long seed) {
    Random r = new Random(seed);
    float[] x = new float[batch * g.input().itemSize()];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    return x;
  }

  public static INDArray dl4jOutput(Model model, INDArray dl4jInput) {
    if (model instanceof MultiLayerNetwork mln) {
      return mln.output(dl4jInput, false);
    }
    return ((ComputationGraph) model).outputSingle(false, dl4jInput);
  }
}
