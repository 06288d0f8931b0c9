package io.sparkquant.ops.interp;

import io.sparkquant.ops.kernels.ConvGeometry;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteOperator;

/** CONV_2D and DEPTHWISE_CONV_2D after prepare: the output shape follows from the input's and the filter window. */
abstract class WindowOp extends PreparedOp {
  private final TensorType outputType;
  private final int[] filterShape;
  private final int outDepth;
  private final Padding padding;
  private final int strideH;
  private final int strideW;
  private final int dilationH;
  private final int dilationW;

  WindowOp(TfliteOperator op, TensorType outputType, int[] filterShape, int outDepth, Padding padding, int strideH,
      int strideW, int dilationH, int dilationW) {
    super(op);
    this.outputType = outputType;
    this.filterShape = filterShape;
    this.outDepth = outDepth;
    this.padding = padding;
    this.strideH = strideH;
    this.strideW = strideW;
    this.dilationH = dilationH;
    this.dilationW = dilationW;
  }

  @Override
  void eval(Object[] values, int[][] shapes) {
    ConvGeometry g = ConvGeometry.of(shapes[inputs[0]], filterShape[1], filterShape[2], outDepth, padding, strideH,
        strideW, dilationH, dilationW);
    int[] outShape = g.outputShape();
    Object outData = TensorValue.allocate(outputType, elements(outShape));
    compute(g, values[inputs[0]], outData);
    values[outputs[0]] = outData;
    shapes[outputs[0]] = outShape;
  }

  abstract void compute(ConvGeometry g, Object in, Object out);
}
