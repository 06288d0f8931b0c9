package io.sparkquant.ops.kernels;

import io.sparkquant.ops.tflite.OperatorOptions.Padding;

/**
 * The spatial arithmetic shared by CONV_2D, DEPTHWISE_CONV_2D and the 2-D pools (NHWC): sizes, strides,
 * dilations and the leading padding, computed once at prepare time as TFLite's ComputePaddingHeightWidth.
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
    int outH = KernelUtil.computeOutSize(padding, inH, filterHeight, strideHeight, dilationHeight);
    int outW = KernelUtil.computeOutSize(padding, inW, filterWidth, strideWidth, dilationWidth);
    int padH = KernelUtil.computePadding(strideHeight, dilationHeight, inH, filterHeight, outH);
    int padW = KernelUtil.computePadding(strideWidth, dilationWidth, inW, filterWidth, outW);
    return new ConvGeometry(inputShape[0], inH, inW, inputShape[3], outH, outW, outputDepth, filterHeight,
        filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, padH, padW);
  }

  public int[] outputShape() {
    return new int[] {batches, outputHeight, outputWidth, outputDepth};
  }
}
