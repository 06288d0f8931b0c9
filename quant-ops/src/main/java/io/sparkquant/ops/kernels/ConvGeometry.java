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
    if (strideHeight <= 0 || strideWidth <= 0 || dilationHeight <= 0 || dilationWidth <= 0 || filterHeight <= 0
        || filterWidth <= 0) {
      throw new IllegalArgumentException("filter sizes, strides and dilations must be >= 1, got filter "
          + filterHeight + "x" + filterWidth + ", stride " + strideHeight + "x" + strideWidth + ", dilation "
          + dilationHeight + "x" + dilationWidth);
    }
    checkWindowFits(inputShape[1], filterHeight, strideHeight, dilationHeight, "height");
    checkWindowFits(inputShape[2], filterWidth, strideWidth, dilationWidth, "width");
    int inH = inputShape[1];
    int inW = inputShape[2];
    int outH = checkedOutputSize(padding, inH, filterHeight, strideHeight, dilationHeight);
    int outW = checkedOutputSize(padding, inW, filterWidth, strideWidth, dilationWidth);
    int padH = padding.padBefore(inH, filterHeight, strideHeight, dilationHeight);
    int padW = padding.padBefore(inW, filterWidth, strideWidth, dilationWidth);
    return new ConvGeometry(inputShape[0], inH, inW, inputShape[3], outH, outW, outputDepth, filterHeight,
        filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, padH, padW);
  }

  /** Padding's int arithmetic (as TFLite's padding.h) must not wrap: keep sizes, strides and windows below 2^30. */
  private static void checkWindowFits(int in, int filter, int stride, int dilation, String axis) {
    long effectiveFilter = (long) (filter - 1) * dilation + 1;
    if ((long) in + stride + effectiveFilter > (1 << 30)) {
      throw new IllegalArgumentException(axis + ": input " + in + ", stride " + stride + " and dilated filter "
          + effectiveFilter + " exceed 2^30 together");
    }
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
