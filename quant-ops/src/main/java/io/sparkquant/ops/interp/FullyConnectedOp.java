package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.INT16_MAX;
import static io.sparkquant.ops.interp.OpContext.INT16_MIN;
import static io.sparkquant.ops.interp.OpContext.INT8_MAX;
import static io.sparkquant.ops.interp.OpContext.INT8_MIN;
import static io.sparkquant.ops.interp.OpContext.requireBiasScale;
import static io.sparkquant.ops.interp.OpContext.requireZeroPoint0;
import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.FullyConnected;
import io.sparkquant.ops.kernels.KernelScratch;
import io.sparkquant.ops.kernels.KernelUtil;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.Arrays;

/** FULLY_CONNECTED (fully_connected.cc): int8, int16x8, float32 and hybrid int8-weight, on {@link FullyConnected}. */
final class FullyConnectedOp {

  private FullyConnectedOp() {}

  static PreparedOp prepare(OpContext c) {
    c.requireOperands(2, 3);
    OperatorOptions.FullyConnectedParams o = c.options(OperatorOptions.FullyConnectedParams.class);
    TfliteTensor input = c.input(0);
    TfliteTensor filter = c.input(1);
    TfliteTensor bias = c.optionalInput(2);
    TfliteTensor output = c.output();
    if (filter.shape().length != 2) {
      throw new InvalidModelException("filter " + c.label(1) + " must be 2-D [units, depth], got "
          + Arrays.toString(filter.shape()));
    }
    final int units = filter.shape()[0];
    final int depth = filter.shape()[1];
    Object filterData = c.constant(1);
    Object biasData = c.optionalConstant(2);
    c.requireBiasSize(2, units);
    final boolean keepNumDims = o.keepNumDims();
    final String combo = types(input, filter, bias, output);
    if (filter.type() == TensorType.INT8 && filter.quantization() != null && filter.quantization().isPerChannel()) {
      throw InvalidModelException.unsupported("per-channel FULLY_CONNECTED filters are not accepted by TFLite 2.6.2");
    }
    abstract class FullyConnectedEval extends PreparedOp {
      final ThreadLocal<KernelScratch> scratch = ThreadLocal.withInitial(KernelScratch::new);

      FullyConnectedEval() {
        super(c.op);
      }

      @Override
      int[] outputShape(int[][] shapes) {
        int[] inShape = shapes[inputs[0]];
        int total = elements(inShape);
        // fully_connected.cc: input elements must be a multiple of the filter's depth
        if (inShape.length == 0 || total % depth != 0 || (keepNumDims && inShape[inShape.length - 1] != depth)) {
          throw new InvalidModelException("input shape " + Arrays.toString(inShape) + " does not fit filter depth "
              + depth + (keepNumDims ? " (keep_num_dims: the last dimension must be " + depth + ")" : ""));
        }
        int[] outShape;
        if (keepNumDims) {
          outShape = inShape.clone();
          outShape[outShape.length - 1] = units;
        } else {
          outShape = new int[] {total / depth, units};
        }
        elements(outShape);
        return outShape;
      }

      @Override
      Object compute(Object[] values, int[][] shapes, int[] outShape) {
        int batches = elements(shapes[inputs[0]]) / depth;
        Object outData = TensorValue.allocate(output.type(), batches * units);
        compute(batches, values[inputs[0]], outData);
        return outData;
      }

      abstract void compute(int batches, Object in, Object out);
    }
    if (input.type() == TensorType.INT8 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT8
        && (bias == null || bias.type() == TensorType.INT32)) {
      requireBiasScale(bias, scale(input), new float[] {scale(filter)});
      FullyConnected.QuantizedParams p = FullyConnected.prepare(scale(input), zeroPoint(input), scale(filter),
          zeroPoint(filter), scale(output), zeroPoint(output), o.fusedActivation(), INT8_MIN, INT8_MAX);
      int[][] packed = FullyConnected.packInt8((byte[]) filterData, p.filterOffset(), depth, units);
      return new FullyConnectedEval() {
        @Override
        void compute(int batches, Object in, Object out) {
          FullyConnected.evalInt8(p, batches, depth, units, (byte[]) in, packed, (int[]) biasData, (byte[]) out,
              scratch.get());
        }
      };
    }
    if (input.type() == TensorType.INT16 && filter.type() == TensorType.INT8 && output.type() == TensorType.INT16
        && (bias == null || bias.type() == TensorType.INT64)) {
      requireZeroPoint0(input);
      requireZeroPoint0(output);
      requireBiasScale(bias, scale(input), new float[] {scale(filter)});
      FullyConnected.QuantizedParams p = FullyConnected.prepare(scale(input), 0, scale(filter), zeroPoint(filter),
          scale(output), 0, o.fusedActivation(), INT16_MIN, INT16_MAX);
      return new FullyConnectedEval() {
        @Override
        void compute(int batches, Object in, Object out) {
          FullyConnected.evalInt16(p, batches, depth, units, (short[]) in, (byte[]) filterData, (long[]) biasData,
              (short[]) out);
        }
      };
    }
    if (input.type() == TensorType.FLOAT32 && output.type() == TensorType.FLOAT32
        && (bias == null || bias.type() == TensorType.FLOAT32)) {
      KernelUtil.FloatRange act = KernelUtil.activationRangeFloat(o.fusedActivation());
      if (filter.type() == TensorType.FLOAT32) {
        float[][] packed = FullyConnected.packFloat((float[]) filterData, depth, units);
        return new FullyConnectedEval() {
          @Override
          void compute(int batches, Object in, Object out) {
            FullyConnected.evalFloat(act, batches, depth, units, (float[]) in, packed, (float[]) biasData,
                (float[]) out, scratch.get());
          }
        };
      }
      if (filter.type() == TensorType.INT8) {
        final float filterScale = scale(filter);
        final boolean asymmetric = o.asymmetricQuantizeInputs();
        return new FullyConnectedEval() {
          @Override
          void compute(int batches, Object in, Object out) {
            FullyConnected.evalHybrid(act, batches, depth, units, (float[]) in, (byte[]) filterData, filterScale,
                (float[]) biasData, (float[]) out, asymmetric);
          }
        };
      }
    }
    throw typeError("(input, filter, bias, output) = (" + combo + ")");
  }
}
