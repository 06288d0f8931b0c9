package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.INT16_MAX;
import static io.sparkquant.ops.interp.OpContext.INT16_MIN;
import static io.sparkquant.ops.interp.OpContext.INT8_MAX;
import static io.sparkquant.ops.interp.OpContext.INT8_MIN;
import static io.sparkquant.ops.interp.OpContext.requireBiasScale;
import static io.sparkquant.ops.interp.OpContext.requireFilterQuantization;
import static io.sparkquant.ops.interp.OpContext.requireQuantization;
import static io.sparkquant.ops.interp.OpContext.requireZeroPoint0;
import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.Conv;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.TransposeConv;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.Arrays;

/**
 * TRANSPOSE_CONV (transpose_conv.cc): inputs (output_shape, filter OHWI, input NHWC[, bias]); int8 per-channel,
 * int16x8, float32, on {@link TransposeConv}. The output shape is a constant, as the converter writes it.
 */
final class TransposeConvOp {

  private TransposeConvOp() {}

  private interface Kernel {
    void eval(TransposeConv.Geometry g, Object input, Object output);
  }

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(3, 4);
    OperatorOptions.TransposeConvParams o = c.options(OperatorOptions.TransposeConvParams.class);
    if (o.fusedActivation() != FusedActivation.NONE) {
      // a newer schema field: TFLite 2.6.2 does not read it and would run the op without the activation
      throw new InvalidModelException("fused activation " + o.fusedActivation()
          + " is a newer TRANSPOSE_CONV option that TFLite 2.6.2 ignores; expected NONE");
    }
    if (o.strideH() < 1 || o.strideW() < 1) {
      throw new InvalidModelException("strides (" + o.strideH() + ", " + o.strideW() + ") must be positive");
    }
    TfliteTensor shapeTensor = c.input(0);
    TfliteTensor filter = c.input(1);
    TfliteTensor input = c.input(2);
    TfliteTensor bias = c.optionalInput(3);
    TfliteTensor output = c.output();
    if (shapeTensor.type() != TensorType.INT32 || shapeTensor.shape().length != 1) {
      throw new InvalidModelException("output shape " + c.label(0) + " must be a 1-D INT32 tensor, got "
          + shapeTensor.type() + " " + Arrays.toString(shapeTensor.shape()));
    }
    final int[] outShape = ((int[]) c.constant(0)).clone();
    final int[] fs = filter.shape();
    if (outShape.length != 4 || fs.length != 4 || input.shape().length != 4) {
      throw new InvalidModelException("output shape " + Arrays.toString(outShape) + ", filter "
          + Arrays.toString(fs) + " and input " + Arrays.toString(input.shape()) + " must all be 4-D");
    }
    for (int d : outShape) {
      if (d < 1) {
        throw new InvalidModelException("output shape " + Arrays.toString(outShape) + " has a dimension below 1");
      }
    }
    if (outShape[3] != fs[0]) {
      throw new InvalidModelException("output shape " + Arrays.toString(outShape) + " has depth " + outShape[3]
          + ", the filter " + c.label(1) + " has " + fs[0] + " output channels");
    }
    final int outDepth = fs[0];
    final Object filterData = c.constant(1);
    final Object biasData = c.optionalConstant(3);
    c.requireBiasSize(3, outDepth);
    final Kernel kernel;
    if (input.type() == TensorType.INT8 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT8
        && (bias == null || bias.type() == TensorType.INT32)) {
      requireFilterQuantization(filter, outDepth, 0);
      requireBiasScale(bias, scale(input), filter.quantization().scale());
      Conv.QuantizedParams p = Conv.prepare(scale(input), zeroPoint(input), requireQuantization(filter).scale(),
          scale(output), zeroPoint(output), FusedActivation.NONE, outDepth, INT8_MIN, INT8_MAX);
      kernel = (g, in, out) -> TransposeConv.evalInt8(p, g, (byte[]) in, (byte[]) filterData, (int[]) biasData,
          (byte[]) out);
    } else if (input.type() == TensorType.INT16 && filter.type() == TensorType.INT8
        && output.type() == TensorType.INT16 && (bias == null || bias.type() == TensorType.INT64)) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
      requireFilterQuantization(filter, outDepth, 0);
      requireBiasScale(bias, scale(input), filter.quantization().scale());
      Conv.QuantizedParams p = Conv.prepare(scale(input), 0, requireQuantization(filter).scale(), scale(output), 0,
          FusedActivation.NONE, outDepth, INT16_MIN, INT16_MAX);
      kernel = (g, in, out) -> TransposeConv.evalInt16(p, g, (short[]) in, (byte[]) filterData, (long[]) biasData,
          (short[]) out);
    } else if (input.type() == TensorType.FLOAT32 && filter.type() == TensorType.FLOAT32
        && output.type() == TensorType.FLOAT32 && (bias == null || bias.type() == TensorType.FLOAT32)) {
      kernel = (g, in, out) -> TransposeConv.evalFloat(g, (float[]) in, (float[]) filterData, (float[]) biasData,
          (float[]) out);
    } else {
      throw typeError("(input, filter, bias, output) = (" + types(input, filter, bias, output) + ")");
    }
    return new PreparedOp(c.op) {
      @Override
      int[] outputShape(int[][] shapes) {
        int[] in = shapes[inputs[2]];
        if (in.length != 4 || in[3] != fs[3] || in[0] != outShape[0]) {
          throw new InvalidModelException("input shape " + Arrays.toString(in) + " does not fit filter "
              + Arrays.toString(fs) + " (depth " + fs[3] + ") and output shape " + Arrays.toString(outShape)
              + " (batch " + outShape[0] + ")");
        }
        elements(outShape);
        return outShape.clone();
      }

      @Override
      Object compute(Object[] values, int[][] shapes, int[] out) {
        TransposeConv.Geometry g = TransposeConv.Geometry.of(shapes[inputs[2]], fs, out, o.padding(), o.strideH(),
            o.strideW());
        Object result = TensorValue.allocate(output.type(), elements(out));
        kernel.eval(g, values[inputs[2]], result);
        return result;
      }
    };
  }
}
