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
import io.sparkquant.ops.kernels.ConvGeometry;
import io.sparkquant.ops.kernels.KernelUtil;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.Arrays;

/** CONV_2D (conv.cc): int8 per-channel, int16x8, float32 and hybrid, on {@link Conv}. */
final class ConvOp {

  private ConvOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(2, 3);
    OperatorOptions.ConvParams o = c.options(OperatorOptions.ConvParams.class);
    TfliteTensor input = c.input(0);
    TfliteTensor filter = c.input(1);
    TfliteTensor bias = c.optionalInput(2);
    TfliteTensor output = c.output();
    int[] fs = filter.shape();
    if (fs.length != 4) {
      throw new InvalidModelException("filter " + c.label(1) + " must be 4-D OHWI, got " + Arrays.toString(fs));
    }
    final int outDepth = fs[0];
    if (bias == null) {
      throw InvalidModelException.unsupported("TFLite 2.6.2's CONV_2D requires a bias input (conv.cc: has_bias)");
    }
    Object filterData = c.constant(1);
    Object biasData = c.constant(2);
    c.requireBiasSize(2, outDepth);
    if (filter.type() == TensorType.INT8) {
      requireFilterQuantization(filter, outDepth, 0);
    }
    final String combo = types(input, filter, bias, output);
    if (input.type() == TensorType.INT8 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT8
        && bias.type() == TensorType.INT32) {
      requireBiasScale(bias, scale(input), filter.quantization().scale());
      Conv.QuantizedParams p = Conv.prepare(scale(input), zeroPoint(input), requireQuantization(filter).scale(),
          scale(output), zeroPoint(output), o.fusedActivation(), outDepth, INT8_MIN, INT8_MAX);
      return new WindowOp(c.op, output.type(), fs, fs[3], outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
        @Override
        void compute(ConvGeometry g, Object in, Object out) {
          Conv.evalInt8(p, g, (byte[]) in, (byte[]) filterData, (int[]) biasData, (byte[]) out, scratch.get());
        }
      };
    }
    if (input.type() == TensorType.INT16 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT16
        && bias.type() == TensorType.INT64) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
      requireBiasScale(bias, scale(input), filter.quantization().scale());
      Conv.QuantizedParams p = Conv.prepare(scale(input), 0, requireQuantization(filter).scale(), scale(output), 0,
          o.fusedActivation(), outDepth, INT16_MIN, INT16_MAX);
      return new WindowOp(c.op, output.type(), fs, fs[3], outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
        @Override
        void compute(ConvGeometry g, Object in, Object out) {
          Conv.evalInt16(p, g, (short[]) in, (byte[]) filterData, (long[]) biasData, (short[]) out);
        }
      };
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32
        && bias.type() == TensorType.FLOAT32) {
      KernelUtil.FloatRange act = KernelUtil.activationRangeFloat(o.fusedActivation());
      if (filter.type() == TensorType.FLOAT32) {
        return new WindowOp(c.op, output.type(), fs, fs[3], outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
          @Override
          void compute(ConvGeometry g, Object in, Object out) {
            Conv.evalFloat(act, g, (float[]) in, (float[]) filterData, (float[]) biasData, (float[]) out,
                scratch.get());
          }
        };
      }
      if (filter.type() == TensorType.INT8) {
        final float[] filterScales = requireQuantization(filter).scale();
        // conv.cc: per-channel hybrid (asymmetric inputs) only when the channel scales actually differ
        boolean perChannel = false;
        for (float s : filterScales) {
          perChannel |= s != filterScales[0];
        }
        final boolean asymmetric = perChannel;
        if (!perChannel && filterScales.length > 1) {
          // measured: TFLite 2.6.2 then takes its per-tensor hybrid path with the tensor's legacy scale, which
          // is 0 for a multi-entry quantization, and returns only the activated bias; refuse instead
          throw InvalidModelException.unsupported("hybrid CONV_2D filter has " + filterScales.length
              + " equal channel scales, which TFLite 2.6.2 computes as zero; write a single scale for a "
              + "per-tensor filter");
        }
        return new WindowOp(c.op, output.type(), fs, fs[3], outDepth, o.padding(), o.strideH(), o.strideW(),
          o.dilationH(), o.dilationW()) {
          @Override
          void compute(ConvGeometry g, Object in, Object out) {
            Conv.evalHybrid(act, g, (float[]) in, (byte[]) filterData, filterScales, (float[]) biasData,
                (float[]) out, asymmetric);
          }
        };
      }
    }
    throw typeError("(input, filter, bias, output) = (" + combo + ")");
  }
}
