package io.sparkquant.ops.graph;

import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import java.util.List;

/**
 * One operation of the graph IR. All tensors are NHWC. {@code origin} names the DL4J layer(s) the node came from
 * ("layer 2 'conv1' (ConvolutionLayer) + layer 3 'bn1' (BatchNormalization)") for error messages and model cards.
 */
public sealed interface Node extends java.io.Serializable {

  String name();

  List<String> inputs();

  String output();

  String origin();

  /** CONV_2D: filter OHWI {@code [outC, kH, kW, inC]}, bias {@code [outC]}. */
  record Conv2D(String name, String input, String output, ConstTensor filter, ConstTensor bias, int strideH,
      int strideW, int dilationH, int dilationW, Padding padding, FusedActivation activation, String origin)
      implements Node {
    public List<String> inputs() {
      return List.of(input);
    }

    public int outChannels() {
      return filter.dim(0);
    }
  }

  /** DEPTHWISE_CONV_2D: filter {@code [1, kH, kW, inC * depthMultiplier]}, output channel {@code c * m + j}. */
  record DepthwiseConv2D(String name, String input, String output, ConstTensor filter, ConstTensor bias,
      int depthMultiplier, int strideH, int strideW, int dilationH, int dilationW, Padding padding,
      FusedActivation activation, String origin) implements Node {
    public List<String> inputs() {
      return List.of(input);
    }

    public int outChannels() {
      return filter.dim(3);
    }
  }

  /** FULLY_CONNECTED: weights {@code [out, in]} (TFLite's layout), bias {@code [out]}; the input is {@code [1, in]}. */
  record FullyConnected(String name, String input, String output, ConstTensor weights, ConstTensor bias,
      FusedActivation activation, String origin) implements Node {
    public List<String> inputs() {
      return List.of(input);
    }
  }

  enum PoolKind { MAX, AVG }

  /** MAX_POOL_2D / AVERAGE_POOL_2D; TFLite's average excludes padded cells from the divisor. */
  record Pool2D(String name, String input, String output, PoolKind kind, int filterH, int filterW, int strideH,
      int strideW, Padding padding, String origin) implements Node {
    public List<String> inputs() {
      return List.of(input);
    }
  }

  /** Global pooling over H and W: MEAN (axes 1, 2) for AVG; MAX_POOL_2D over the whole plane for MAX. */
  record GlobalPool(String name, String input, String output, PoolKind kind, boolean keepDims, String origin)
      implements Node {
    public List<String> inputs() {
      return List.of(input);
    }
  }

  /** ADD of two tensors of the same shape. */
  record Add(String name, String left, String right, String output, FusedActivation activation, String origin)
      implements Node {
    public List<String> inputs() {
      return List.of(left, right);
    }
  }

  /** RESHAPE (used as the NHWC flatten before a dense layer); data order is unchanged. */
  record Reshape(String name, String input, String output, int[] newShape, String origin) implements Node {
    public Reshape {
      newShape = newShape.clone();
    }

    public List<String> inputs() {
      return List.of(input);
    }

    @Override
    public int[] newShape() {
      return newShape.clone();
    }
  }

  /** SOFTMAX over the last dimension. */
  record Softmax(String name, String input, String output, float beta, String origin) implements Node {
    public List<String> inputs() {
      return List.of(input);
    }
  }

  enum ActivationKind { RELU, RELU6, TANH, LOGISTIC }

  /** A standalone element-wise activation (RELU, RELU6, TANH, LOGISTIC) where it could not be fused. */
  record Activation(String name, String input, String output, ActivationKind kind, String origin) implements Node {
    public List<String> inputs() {
      return List.of(input);
    }
  }

  /** LEAKY_RELU: {@code x >= 0 ? x : alpha * x} (DL4J's ActivationLReLU). */
  record LeakyRelu(String name, String input, String output, float alpha, String origin) implements Node {
    public List<String> inputs() {
      return List.of(input);
    }
  }

  /** PAD of an NHWC tensor with zeros: rows above and below, columns left and right (DL4J's ZeroPaddingLayer). */
  record Pad(String name, String input, String output, int top, int bottom, int left, int right, String origin)
      implements Node {
    public List<String> inputs() {
      return List.of(input);
    }
  }

  /** CONCATENATION along the last (channel) axis of tensors of equal shape elsewhere (DL4J's MergeVertex). */
  record Concatenation(String name, List<String> inputs, String output, String origin) implements Node {
    public Concatenation {
      inputs = List.copyOf(inputs);
    }
  }

  /**
   * RESIZE_NEAREST_NEIGHBOR of an NHWC tensor by integer factors, align_corners and half_pixel_centers false: each
   * pixel repeated {@code factorH x factorW} times (DL4J's Upsampling2D).
   */
  record ResizeNearest(String name, String input, String output, int factorH, int factorW, String origin)
      implements Node {
    public List<String> inputs() {
      return List.of(input);
    }
  }
}
