package io.sparkquant.ops.interp;

import io.sparkquant.ops.kernels.ConvGeometry;
import io.sparkquant.ops.kernels.KernelScratch;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteOperator;
import java.util.Arrays;

/**
 * CONV_2D and DEPTHWISE_CONV_2D after prepare: the output shape follows from the input's and the filter window.
 * Each thread that runs the op gets its own {@link KernelScratch}, kept for the next run.
 */
abstract class WindowOp extends PreparedOp {
  final ThreadLocal<KernelScratch> scratch = ThreadLocal.withInitial(KernelScratch::new);
  private final TensorType outputType;
  private final int[] filterShape;
  private final int inputDepth;
  private final int outDepth;
  private final Padding padding;
  private final int strideH;
  private final int strideW;
  private final int dilationH;
  private final int dilationW;

  /** @param inputDepth the input channels the filter takes (conv: filter dimension 3; depthwise: out / multiplier) */
  WindowOp(TfliteOperator op, TensorType outputType, int[] filterShape, int inputDepth, int outDepth, Padding padding,
      int strideH, int strideW, int dilationH, int dilationW) {
    super(op);
    this.outputType = outputType;
    this.filterShape = filterShape;
    this.inputDepth = inputDepth;
    this.outDepth = outDepth;
    this.padding = padding;
    this.strideH = strideH;
    this.strideW = strideW;
    this.dilationH = dilationH;
    this.dilationW = dilationW;
  }

  private ConvGeometry geometry(int[] inShape) {
    if (inShape.length != 4 || inShape[3] != inputDepth) {
      throw new InvalidModelException("input shape " + Arrays.toString(inShape) + " must be NHWC with " + inputDepth
          + " channels (filter " + Arrays.toString(filterShape) + ")");
    }
    try {
      return ConvGeometry.of(inShape, filterShape[1], filterShape[2], outDepth, padding, strideH, strideW, dilationH,
          dilationW);
    } catch (IllegalArgumentException e) {
      throw new InvalidModelException(e.getMessage(), e);
    }
  }

  @Override
  int[] outputShape(int[][] shapes) {
    int[] out = geometry(shapes[inputs[0]]).outputShape();
    elements(out);
    return out;
  }

  @Override
  Object compute(Object[] values, int[][] shapes, int[] outShape) {
    Object outData = TensorValue.allocate(outputType, elements(outShape));
    compute(geometry(shapes[inputs[0]]), values[inputs[0]], outData);
    return outData;
  }

  abstract void compute(ConvGeometry g, Object in, Object out);
}
