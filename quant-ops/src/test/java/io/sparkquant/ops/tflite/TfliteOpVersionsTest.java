package io.sparkquant.ops.tflite;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.interp.BuiltinOpResolver;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The Java interpreter registers every {@link BuiltinOp} with the versions the real TFLite 2.6.2 runtime
 * registers ({@link BuiltinOpResolver}): the lowest and highest versions load, the next one is refused with TFLite's "Didn't find op" error. Every op runs once in TFLite as a float
 * (or float/int8 for QUANTIZE/DEQUANTIZE) single-op model written by TfliteWriter.
 */
class TfliteOpVersionsTest {

  @ParameterizedTest
  @EnumSource(BuiltinOp.class)
  void highestVersionLoadsAndNextIsRefused(BuiltinOp op) {
    OpResolver.Registration registration = BuiltinOpResolver.INSTANCE.find(op);
    assertNotNull(registration, op + " is not registered in the interpreter");
    int max = registration.maxVersion();
    TfliteRuntime.create(TfliteWriter.write(probe(op, registration.minVersion())), 1).close();
    TfliteRuntime.create(TfliteWriter.write(probe(op, max)), 1).close();
    try (TfliteRuntime rt = TfliteRuntime.create(TfliteWriter.write(probe(op, max + 1)), 1)) {
      throw new AssertionError(op + " version " + (max + 1) + " unexpectedly loads in TFLite 2.6.2");
    } catch (TfliteRuntimeException e) {
      assertTrue(e.getMessage().contains("Didn't find op"), e.getMessage());
    }
  }

  /** A minimal model that TFLite can prepare for this op. */
  static TfliteModel probe(BuiltinOp op, int version) {
    TensorType f = TensorType.FLOAT32;
    int[] vec = {1, 2};
    int[] img = {1, 2, 2, 1};
    return switch (op) {
      case ADD -> TfliteTestModels.singleOp(op, version, new OperatorOptions.AddParams(FusedActivation.NONE))
          .input("a", f, vec, null).input("b", f, vec, null).output("y", f, vec, null).build();
      case AVERAGE_POOL_2D, MAX_POOL_2D -> TfliteTestModels.singleOp(op, version,
              new OperatorOptions.PoolParams(Padding.VALID, 1, 1, 2, 2, FusedActivation.NONE))
          .input("x", f, img, null).output("y", f, new int[] {1, 1, 1, 1}, null).build();
      case CONV_2D -> TfliteTestModels.singleOp(op, version,
              new OperatorOptions.ConvParams(Padding.VALID, 1, 1, FusedActivation.NONE, 1, 1))
          .input("x", f, img, null)
          .constant(TfliteTensor.constantFloat32("w", new int[] {1, 1, 1, 1}, new float[] {2}))
          .constant(TfliteTensor.constantFloat32("b", new int[] {1}, new float[] {0}))
          .output("y", f, img, null).build();
      case DEPTHWISE_CONV_2D -> TfliteTestModels.singleOp(op, version,
              new OperatorOptions.DepthwiseConvParams(Padding.VALID, 1, 1, 1, FusedActivation.NONE, 1, 1))
          .input("x", f, img, null)
          .constant(TfliteTensor.constantFloat32("w", new int[] {1, 1, 1, 1}, new float[] {2}))
          .constant(TfliteTensor.constantFloat32("b", new int[] {1}, new float[] {0}))
          .output("y", f, img, null).build();
      case DEQUANTIZE -> TfliteTestModels.singleOp(op, version, null)
          .input("x", TensorType.INT8, vec, TfliteQuantization.perTensor(0.5f, 1))
          .output("y", f, vec, null).build();
      case QUANTIZE -> TfliteTestModels.singleOp(op, version, null)
          .input("x", f, vec, null)
          .output("y", TensorType.INT8, vec, TfliteQuantization.perTensor(0.5f, 1)).build();
      case FULLY_CONNECTED -> TfliteTestModels.singleOp(op, version,
              new OperatorOptions.FullyConnectedParams(FusedActivation.NONE, false, false))
          .input("x", f, vec, null)
          .constant(TfliteTensor.constantFloat32("w", new int[] {1, 2}, new float[] {1, 2}))
          .omitted()
          .output("y", f, new int[] {1, 1}, null).build();
      case LOGISTIC, RELU, RELU6, TANH, HARD_SWISH -> TfliteTestModels.singleOp(op, version, null)
          .input("x", f, vec, null).output("y", f, vec, null).build();
      case RESHAPE -> TfliteTestModels.singleOp(op, version, new OperatorOptions.ReshapeParams(new int[] {2, 1}))
          .input("x", f, vec, null).output("y", f, new int[] {2, 1}, null).build();
      case SOFTMAX -> TfliteTestModels.singleOp(op, version, new OperatorOptions.SoftmaxParams(1f))
          .input("x", f, vec, null).output("y", f, vec, null).build();
      case LEAKY_RELU -> TfliteTestModels.singleOp(op, version, new OperatorOptions.LeakyReluParams(0.1f))
          .input("x", f, vec, null).output("y", f, vec, null).build();
      case PAD -> TfliteTestModels.singleOp(op, version, null)
          .input("x", f, vec, null)
          .constant(TfliteTensor.constantInt32("paddings", new int[] {2, 2}, new int[] {0, 0, 1, 1}, null))
          .output("y", f, new int[] {1, 4}, null).build();
      case CONCATENATION -> TfliteTestModels.singleOp(op, version,
              new OperatorOptions.ConcatenationParams(1, FusedActivation.NONE))
          .input("a", f, vec, null).input("b", f, vec, null).output("y", f, new int[] {1, 4}, null).build();
      case RESIZE_NEAREST_NEIGHBOR -> TfliteTestModels.singleOp(op, version,
              new OperatorOptions.ResizeNearestNeighborParams(false, false))
          .input("x", f, img, null)
          .constant(TfliteTensor.constantInt32("size", new int[] {2}, new int[] {4, 4}, null))
          .output("y", f, new int[] {1, 4, 4, 1}, null).build();
      case MEAN -> TfliteTestModels.singleOp(op, version, new OperatorOptions.ReducerParams(true))
          .input("x", f, img, null)
          .constant(TfliteTensor.constantInt32("axis", new int[] {2}, new int[] {1, 2}, null))
          .output("y", f, new int[] {1, 1, 1, 1}, null).build();
      case SUB -> TfliteTestModels.singleOp(op, version, new OperatorOptions.SubParams(FusedActivation.NONE, false))
          .input("a", f, vec, null).input("b", f, vec, null).output("y", f, vec, null).build();
      case MUL -> TfliteTestModels.singleOp(op, version, new OperatorOptions.MulParams(FusedActivation.NONE))
          .input("a", f, vec, null).input("b", f, vec, null).output("y", f, vec, null).build();
      case STRIDED_SLICE -> TfliteTestModels.singleOp(op, version,
              new OperatorOptions.StridedSliceParams(0, 0, 0, 0, 0, false))
          .input("x", f, vec, null)
          .constant(TfliteTensor.constantInt32("begin", new int[] {2}, new int[] {0, 1}, null))
          .constant(TfliteTensor.constantInt32("end", new int[] {2}, new int[] {1, 2}, null))
          .constant(TfliteTensor.constantInt32("strides", new int[] {2}, new int[] {1, 1}, null))
          .output("y", f, new int[] {1, 1}, null).build();
      case TRANSPOSE_CONV -> TfliteTestModels.singleOp(op, version,
              new OperatorOptions.TransposeConvParams(Padding.VALID, 1, 1, FusedActivation.NONE))
          .constant(TfliteTensor.constantInt32("output_shape", new int[] {4}, img, null))
          .constant(TfliteTensor.constantFloat32("w", new int[] {1, 1, 1, 1}, new float[] {2}))
          .input("x", f, img, null)
          .output("y", f, img, null).build();
    };
  }
}
