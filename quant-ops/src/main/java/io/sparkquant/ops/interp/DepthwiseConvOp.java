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

import io.sparkquant.ops.kernels.ConvGeometry;
import io.sparkquant.ops.kernels.DepthwiseConv;
import io.sparkquant.ops.kernels.KernelUtil;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.Arrays;

/** DEPTHWISE_CONV_2D (depthwise_conv.cc): int8 per-channel, int16x8, float32 and hybrid, on {@link DepthwiseConv}. */
final class DepthwiseConvOp {

  private DepthwiseConvOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(2, 3);
    OperatorOptions.DepthwiseConvParams o = c.options(OperatorOptions.DepthwiseConvParams.class);
    TfliteTensor input = c.input(0);
    TfliteTensor filter = c.input(1);
    // depthwise_conv.cc: hasBias = NumInputs(node) == 3, and GetInput refuses an omitted (-1) third input;
    // measured in TFLite 2.6.2 ("Tensor at index 2 was optional but was expected"): no bias means two inputs
    TfliteTensor bias = c.op.inputs().length == 3 ? c.input(2) : null;
    TfliteTensor output = c.output();
    int[] fs = filter.shape();
    if (fs.length != 4 || fs[0] != 1) {
      throw new InvalidModelException("filter " + c.label(1) + " must be 4-D [1, H, W, C], got "
          + Arrays.toString(fs));
    }
    final int outDepth = fs[3];
    if (input.shape().length != 4 || input.shape()[3] <= 0 || outDepth % input.shape()[3] != 0) {
      throw new InvalidModelException("input " + c.label(0) + " shape " + Arrays.toString(input.shape())
          + " must be NHWC with a channel count dividing the filter's " + outDepth);
    }
    final int inputDepth = input.shape()[3];
    final int depthMultiplier = outDepth / inputDepth;
    if (o.depthMultiplier() != 0 && o.depthMultiplier() != depthMultiplier) {
      throw new InvalidModelException("depth multiplier option " + o.depthMultiplier()
          + " disagrees with filter channels / input channels = " + depthMultiplier);
    }
    Object filterData = c.constant(1);
    Object biasData = c.optionalConstant(2);
    c.requireBiasSize(2, outDepth);
    if (filter.type() == TensorType.INT8) {
      requireFilterQuantization(filter, outDepth, 3);
    }
    final String combo = types(input, filter, bias, output);
    if (input.type() == TensorType.INT8 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT8
        && (bias == null || bias.type() == TensorType.INT32)) {
      requireBiasScale(bias, scale(input), filter.quantization().scale());
      DepthwiseConv.QuantizedParams p = DepthwiseConv.prepare(scale(input), zeroPoint(input),
          requireQuantization(filter).scale(), scale(output), zeroPoint(output), o.fusedActivation(), outDepth,
          depthMultiplier, INT8_MIN, INT8_MAX);
      int[][] packed = DepthwiseConv.packInt8((byte[]) filterData, fs[1], fs[2], outDepth);
      return new WindowOp(c.op, output.type(), fs, inputDepth, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
        @Override
        void compute(ConvGeometry g, Object in, Object out) {
          DepthwiseConv.evalInt8(p, g, (byte[]) in, packed, (int[]) biasData, (byte[]) out, scratch.get());
        }
      };
    }
    if (input.type() == TensorType.INT16 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT16
        && (bias == null || bias.type() == TensorType.INT64)) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
      requireBiasScale(bias, scale(input), filter.quantization().scale());
      DepthwiseConv.QuantizedParams p = DepthwiseConv.prepare(scale(input), 0, requireQuantization(filter).scale(),
          scale(output), 0, o.fusedActivation(), outDepth, depthMultiplier, INT16_MIN, INT16_MAX);
      return new WindowOp(c.op, output.type(), fs, inputDepth, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
        @Override
        void compute(ConvGeometry g, Object in, Object out) {
          DepthwiseConv.evalInt16(p, g, (short[]) in, (byte[]) filterData, (long[]) biasData, (short[]) out);
        }
      };
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32
        && (bias == null || bias.type() == TensorType.FLOAT32)) {
      KernelUtil.FloatRange act = KernelUtil.activationRangeFloat(o.fusedActivation());
      if (filter.type() == TensorType.FLOAT32) {
        float[][] packed = DepthwiseConv.packFloat((float[]) filterData, fs[1], fs[2], outDepth);
        return new WindowOp(c.op, output.type(), fs, inputDepth, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
          @Override
          void compute(ConvGeometry g, Object in, Object out) {
            DepthwiseConv.evalFloat(act, depthMultiplier, g, (float[]) in, packed, (float[]) biasData,
                (float[]) out, scratch.get());
          }
        };
      }
      if (filter.type() == TensorType.INT8) {
        final float[] filterScales = requireQuantization(filter).scale();
        return new WindowOp(c.op, output.type(), fs, inputDepth, outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
          @Override
          void compute(ConvGeometry g, Object in, Object out) {
            DepthwiseConv.evalHybrid(act, depthMultiplier, g, (float[]) in, (byte[]) filterData, filterScales,
                (float[]) biasData, (float[]) out);
          }
        };
      }
    }
    throw typeError("(input, filter, bias, output) = (" + combo + ")");
  }
}
