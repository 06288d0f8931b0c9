package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.OpContext.INT16_MAX;
import static io.sparkquant.ops.interp.OpContext.INT16_MIN;
import static io.sparkquant.ops.interp.OpContext.INT8_MAX;
import static io.sparkquant.ops.interp.OpContext.INT8_MIN;
import static io.sparkquant.ops.interp.OpContext.scale;
import static io.sparkquant.ops.interp.OpContext.typeError;
import static io.sparkquant.ops.interp.OpContext.types;
import static io.sparkquant.ops.interp.OpContext.zeroPoint;

import io.sparkquant.ops.kernels.AveragePool;
import io.sparkquant.ops.kernels.ConvGeometry;
import io.sparkquant.ops.kernels.KernelUtil;
import io.sparkquant.ops.kernels.MaxPool;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteTensor;

/**
 * MAX_POOL_2D and AVERAGE_POOL_2D (pooling.cc, which registers both): int8, int16, float32, on {@link MaxPool}
 * and {@link AveragePool}; they differ only in the kernel.
 */
final class PoolingOp {

  private PoolingOp() {}

  /** One pool's kernels by type. */
  private record Kernels(QuantizedKernel<byte[]> int8, QuantizedKernel<short[]> int16, FloatKernel float32) {}

  @FunctionalInterface
  private interface QuantizedKernel<T> {
    void eval(ConvGeometry g, int outputActivationMin, int outputActivationMax, T input, T output);
  }

  @FunctionalInterface
  private interface FloatKernel {
    void eval(ConvGeometry g, KernelUtil.FloatRange range, float[] input, float[] output);
  }

  static PreparedOp prepareMax(OpContext c) {
    return prepare(c, new Kernels(MaxPool::evalInt8, MaxPool::evalInt16, MaxPool::evalFloat));
  }

  static PreparedOp prepareAverage(OpContext c) {
    return prepare(c, new Kernels(AveragePool::evalInt8, AveragePool::evalInt16, AveragePool::evalFloat));
  }

  private static PreparedOp prepare(OpContext c, Kernels kernels) {
    c.requireOperands(1, 1);
    OperatorOptions.PoolParams o = c.options(OperatorOptions.PoolParams.class);
    TfliteTensor input = c.input(0);
    TfliteTensor output = c.output();
    if (input.type() != output.type()) {
      throw typeError("(input, output) = (" + types(input, output) + ")");
    }
    final TensorType type = input.type();
    final KernelUtil.QuantizedRange range;
    final KernelUtil.FloatRange floatRange;
    switch (type) {
      case INT8 -> {
        range = KernelUtil.activationRangeQuantized(o.fusedActivation(), scale(output), zeroPoint(output), INT8_MIN,
            INT8_MAX);
        floatRange = null;
      }
      case INT16 -> {
        range = KernelUtil.activationRangeQuantized(o.fusedActivation(), scale(output), zeroPoint(output), INT16_MIN,
            INT16_MAX);
        floatRange = null;
      }
      case FLOAT32 -> {
        range = null;
        floatRange = KernelUtil.activationRangeFloat(o.fusedActivation());
      }
      default -> throw typeError("(input, output) = (" + types(input, output) + ")");
    }
    return new PreparedOp(c.op) {
      private ConvGeometry geometry(int[] inShape) {
        try {
          return ConvGeometry.of(inShape, o.filterHeight(), o.filterWidth(), inShape.length == 4 ? inShape[3] : 0,
              o.padding(), o.strideH(), o.strideW(), 1, 1);
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
        ConvGeometry g = geometry(shapes[inputs[0]]);
        Object outData = TensorValue.allocate(type, elements(outShape));
        Object inData = values[inputs[0]];
        switch (type) {
          case INT8 -> kernels.int8().eval(g, range.min(), range.max(), (byte[]) inData, (byte[]) outData);
          case INT16 -> kernels.int16().eval(g, range.min(), range.max(), (short[]) inData, (short[]) outData);
          default -> kernels.float32().eval(g, floatRange, (float[]) inData, (float[]) outData);
        }
        return outData;
      }
    };
  }
}
