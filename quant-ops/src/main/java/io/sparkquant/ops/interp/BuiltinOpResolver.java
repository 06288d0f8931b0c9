package io.sparkquant.ops.interp;

import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.OpResolver;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.OperatorOptions.AddParams;
import io.sparkquant.ops.tflite.OperatorOptions.ConcatenationParams;
import io.sparkquant.ops.tflite.OperatorOptions.ConvParams;
import io.sparkquant.ops.tflite.OperatorOptions.DepthwiseConvParams;
import io.sparkquant.ops.tflite.OperatorOptions.FullyConnectedParams;
import io.sparkquant.ops.tflite.OperatorOptions.LeakyReluParams;
import io.sparkquant.ops.tflite.OperatorOptions.PoolParams;
import io.sparkquant.ops.tflite.OperatorOptions.ReducerParams;
import io.sparkquant.ops.tflite.OperatorOptions.ReshapeParams;
import io.sparkquant.ops.tflite.OperatorOptions.MulParams;
import io.sparkquant.ops.tflite.OperatorOptions.ResizeNearestNeighborParams;
import io.sparkquant.ops.tflite.OperatorOptions.SoftmaxParams;
import io.sparkquant.ops.tflite.OperatorOptions.StridedSliceParams;
import io.sparkquant.ops.tflite.OperatorOptions.SubParams;
import io.sparkquant.ops.tflite.OperatorOptions.TransposeConvParams;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The op table of the Java interpreter, as TFLite's register.cc: one registration per op with the versions
 * TFLite 2.6.2 registers (a model with a higher version does not load there either; TfliteOpVersionsTest
 * checks them against the runtime). The interpreter's supported set, {@link io.sparkquant.ops.tflite.ModelCheck}'s
 * options and version check, and the model summary's versions all read this table.
 */
public final class BuiltinOpResolver implements OpResolver {

  private static final List<String> INT8_INT16_FLOAT32 = List.of("int8", "int16", "float32");

  /** The registrations below; immutable. */
  public static final BuiltinOpResolver INSTANCE = new BuiltinOpResolver();

  private final Map<BuiltinOp, OpRegistration> registrations = new EnumMap<>(BuiltinOp.class);

  private BuiltinOpResolver() {
    add(BuiltinOp.FULLY_CONNECTED, 1, 9, FullyConnectedParams.class,
        List.of("int8", "int16x8", "float32", "hybrid int8-weight"), FullyConnectedOp::prepare);
    add(BuiltinOp.CONV_2D, 1, 5, ConvParams.class,
        List.of("int8 per-channel", "int16x8", "float32", "hybrid"), ConvOp::prepare);
    add(BuiltinOp.DEPTHWISE_CONV_2D, 1, 6, DepthwiseConvParams.class,
        List.of("int8 per-channel", "int16x8", "float32", "hybrid"), DepthwiseConvOp::prepare);
    add(BuiltinOp.MAX_POOL_2D, 1, 3, PoolParams.class, INT8_INT16_FLOAT32, PoolingOp::prepareMax);
    add(BuiltinOp.AVERAGE_POOL_2D, 1, 3, PoolParams.class, INT8_INT16_FLOAT32, PoolingOp::prepareAverage);
    add(BuiltinOp.MEAN, 1, 3, ReducerParams.class, INT8_INT16_FLOAT32, MeanOp::prepare);
    add(BuiltinOp.ADD, 1, 4, AddParams.class,
        List.of("int8", "int16 with non-power-of-two scales", "float32"), AddOp::prepare);
    add(BuiltinOp.RESHAPE, 1, 1, ReshapeParams.class, List.of("any type"), ReshapeOp::prepare);
    add(BuiltinOp.SOFTMAX, 1, 3, SoftmaxParams.class, INT8_INT16_FLOAT32, SoftmaxOp::prepare);
    add(BuiltinOp.LOGISTIC, 1, 3, null, List.of("int8", "int16 with a non-power-of-two input scale", "float32"),
        LogisticOp::prepare);
    add(BuiltinOp.TANH, 1, 3, null, List.of("int8", "int16 with a non-power-of-two input scale", "float32"),
        TanhOp::prepare);
    add(BuiltinOp.RELU, 1, 3, null, INT8_INT16_FLOAT32, ReluOp::prepareRelu);
    add(BuiltinOp.RELU6, 1, 3, null, INT8_INT16_FLOAT32, ReluOp::prepareRelu6);
    add(BuiltinOp.LEAKY_RELU, 1, 2, LeakyReluParams.class, INT8_INT16_FLOAT32, LeakyReluOp::prepare);
    add(BuiltinOp.HARD_SWISH, 1, 1, null, List.of("int8", "float32"), HardSwishOp::prepare);
    add(BuiltinOp.PAD, 1, 4, null, INT8_INT16_FLOAT32, PadOp::prepare);
    add(BuiltinOp.CONCATENATION, 1, 3, ConcatenationParams.class,
        List.of("int8 with equal input and output parameters", "int16", "float32"), ConcatenationOp::prepare);
    add(BuiltinOp.RESIZE_NEAREST_NEIGHBOR, 1, 4, ResizeNearestNeighborParams.class, INT8_INT16_FLOAT32,
        ResizeNearestNeighborOp::prepare);
    add(BuiltinOp.QUANTIZE, 1, 2, null, List.of("float32 to int8", "float32 to int16", "int8 to int8",
        "int16 to int8", "int16 to int16"), QuantizeOp::prepare);
    add(BuiltinOp.DEQUANTIZE, 1, 4, null, List.of("int8 to float32", "int16 to float32", "float16 to float32"),
        DequantizeOp::prepare);
    add(BuiltinOp.SUB, 1, 5, SubParams.class, List.of("int8", "int16 with general scales", "float32"),
        SubOp::prepare);
    add(BuiltinOp.MUL, 1, 5, MulParams.class, INT8_INT16_FLOAT32, MulOp::prepare);
    add(BuiltinOp.STRIDED_SLICE, 1, 6, StridedSliceParams.class, List.of("int8", "int16", "int32", "float32"),
        StridedSliceOp::prepare);
    add(BuiltinOp.TRANSPOSE_CONV, 1, 3, TransposeConvParams.class,
        List.of("int8 per-channel", "int16x8", "float32"), TransposeConvOp::prepare);
  }

  private void add(BuiltinOp op, int minVersion, int maxVersion, Class<? extends OperatorOptions> options,
      List<String> types, OpRegistration.Prepare prepare) {
    // RESHAPE may take its new shape from a second input instead of its options
    boolean optionsRequired = options != null && op != BuiltinOp.RESHAPE;
    if (registrations.put(op, new OpRegistration(op, minVersion, maxVersion, options, optionsRequired, types,
        prepare)) != null) {
      throw new IllegalStateException(op + " is registered twice");
    }
  }

  @Override
  public OpRegistration find(BuiltinOp op) {
    return registrations.get(op);
  }

  /** The interpreter's own prepare and shape plan ({@link Interpreter#Interpreter}) is the check. */
  @Override
  public String prepareProblem(TfliteModel model) {
    try {
      new Interpreter(model);
      return null;
    } catch (InvalidModelException e) {
      return e.getMessage();
    }
  }

  /** Every registration, in {@link BuiltinOp} order. */
  List<OpRegistration> registrations() {
    return List.copyOf(registrations.values());
  }

  /** The registered ops and type combinations, e.g. "RELU (int8, int16, float32), ...". */
  String describe() {
    List<String> parts = new ArrayList<>();
    for (OpRegistration r : registrations.values()) {
      parts.add(r.op() + " (" + String.join(", ", r.types()) + ")");
    }
    return String.join(", ", parts);
  }
}
