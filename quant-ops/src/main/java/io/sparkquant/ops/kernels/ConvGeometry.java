package io.sparkquant.ops.kernels;

/**
 * The spatial arithmetic shared by CONV_2D, DEPTHWISE_CONV_2D and the 2-D pools (NHWC): sizes, strides,
 * dilations and the leading padding, computed as TFLite's ComputePaddingHeightWidth ({@link Padding}).
 */
public record ConvGeometry(int batches, int inputHeight, int inputWidth, int inputDepth, int outputHeight,
    int outputWidth, int outputDepth, int filterHeight, int filterWidth, int strideHeight, int strideWidth,
    int dilationHeight, int dilationWidth, int padHeight, int padWidth) {

  public ConvGeometry {
    if (strideHeight <= 0 || strideWidth <= 0 || dilationHeight <= 0 || dilationWidth <= 0) {
      throw new IllegalArgumentException("strides and dilations must be >= 1, got stride " + strideHeight + "x"
          + strideWidth + ", dilation " + dilationHeight + "x" + dilationWidth);
    }
  }

  /** Geometry for an NHWC input, a filter of filterHeight x filterWidth and the given output depth. */
  public static ConvGeometry of(int[] inputShape, int filterHeight, int filterWidth, int outputDepth,
      Padding padding, int strideHeight, int strideWidth, int dilationHeight, int dilationWidth) {
    if (inputShape.length != 4) {
      throw new IllegalArgumentException("input must be 4-D NHWC, got shape " + java.util.Arrays.toString(inputShape));
    }
    int inH = inputShape[1];
    int inW = inputShape[2];
    int outH = checkedOutputSize(padding, inH, filterHeight, strideHeight, dilationHeight);
    int outW = checkedOutputSize(padding, inW, filterWidth, strideWidth, dilationWidth);
    int padH = padding.padBefore(inH, filterHeight, strideHeight, dilationHeight);
    int padW = padding.padBefore(inW, filterWidth, strideWidth, dilationWidth);
    return new ConvGeometry(inputShape[0], inH, inW, inputShape[3], outH, outW, outputDepth, filterHeight,
        filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, padH, padW);
  }

  private static int checkedOutputSize(Padding padding, int in, int filter, int stride, int dilation) {
    int out = padding.outputSize(in, filter, stride, dilation);
    if (out <= 0) {
      throw new IllegalArgumentException("padding " + padding + " with input size " + in + ", filter " + filter
          + ", stride " + stride + ", dilation " + dilation + " gives output size " + out
          + "; the (dilated) filter must fit in the input for VALID padding");
    }
    return out;
  }

  public int[] outputShape() {
    return new int[] {batches, outputHeight, outputWidth, outputDepth};
  }
}
