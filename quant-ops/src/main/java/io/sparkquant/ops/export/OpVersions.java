package io.sparkquant.ops.export;

import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.TensorType;
import java.util.Map;

/**
 * Operator versions as TFLite's converter assigns them (tensorflow/lite/tools/versioning/op_version.cc) and the
 * minimum runtime version per (op, version) (runtime_version.cc), for the ops the exporter writes.
 * Note op_version.cc gives CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with int16 activations and int8 weights
 * version 1 (its int16 branches test for int16 weights); we follow it, and TFLite 2.6.2 runs those kernels.
 * int16 ADD gets version 3 (the converter's version for pot_scale_int16 = false, the semantics we need), although
 * the options we can write leave pot_scale_int16 at its default.
 */
public final class OpVersions {

  private OpVersions() {}

  public static int version(BuiltinOp op, TensorType in, TensorType weights, TensorType out, boolean perChannel,
      boolean dilated) {
    return switch (op) {
      case CONV_2D -> {
        if (in == TensorType.INT8 && weights == TensorType.INT8 && out == TensorType.INT8) {
          yield 3;
        }
        if (in == TensorType.FLOAT32 && weights == TensorType.INT8 && out == TensorType.FLOAT32) {
          yield perChannel ? 5 : 2;
        }
        yield 1;
      }
      case DEPTHWISE_CONV_2D -> {
        if (in == TensorType.FLOAT32 && weights == TensorType.INT8 && out == TensorType.FLOAT32) {
          yield perChannel ? 6 : 4;
        }
        if (in == TensorType.INT8 && weights == TensorType.INT8 && out == TensorType.INT8) {
          yield 3;
        }
        yield dilated ? 2 : 1;
      }
      case FULLY_CONNECTED -> {
        if (in == TensorType.INT8 && weights == TensorType.INT8 && out == TensorType.INT8) {
          yield 4;
        }
        if (in == TensorType.FLOAT32 && weights == TensorType.INT8 && out == TensorType.FLOAT32) {
          yield 3; // asymmetric_quantize_inputs = false
        }
        yield 1;
      }
      case MAX_POOL_2D, AVERAGE_POOL_2D, TANH, LOGISTIC -> in == TensorType.INT16 && out == TensorType.INT16 ? 3
          : in == TensorType.INT8 ? 2 : 1;
      case ADD -> in == TensorType.INT16 && out == TensorType.INT16 ? 3 : in == TensorType.INT8 ? 2 : 1;
      case SOFTMAX, MEAN, RELU6, RELU -> in == TensorType.INT16 ? 3 : in == TensorType.INT8 ? 2 : 1;
      case RESHAPE -> 1;
      case CONCATENATION -> in == TensorType.INT16 ? 3 : in == TensorType.INT8 ? 2 : 1;
      case PAD, RESIZE_NEAREST_NEIGHBOR -> in == TensorType.INT16 ? 4 : in == TensorType.INT8 ? 2 : 1;
      case LEAKY_RELU -> in == TensorType.INT16 ? 2 : 1;
      case QUANTIZE -> out == TensorType.INT16 ? 2 : 1;
      case DEQUANTIZE -> in == TensorType.INT16 || in == TensorType.FLOAT16 ? 3 : in == TensorType.INT8 ? 2 : 1;
      // read and run by the interpreter (models from TFLite's converter), never written by the exporter
      case SUB, MUL, STRIDED_SLICE, TRANSPOSE_CONV, HARD_SWISH -> throw new IllegalArgumentException("the exporter does not "
          + "write " + op);
    };
  }

  private static final Map<String, String> MIN_RUNTIME = Map.ofEntries(
      Map.entry("AVERAGE_POOL_2D/1", "1.5.0"), Map.entry("AVERAGE_POOL_2D/2", "1.14.0"),
      Map.entry("AVERAGE_POOL_2D/3", "2.3.0"),
      Map.entry("CONV_2D/1", "1.5.0"), Map.entry("CONV_2D/2", "1.14.0"), Map.entry("CONV_2D/3", "1.14.0"),
      Map.entry("CONV_2D/4", "2.3.0"), Map.entry("CONV_2D/5", "2.4.0"),
      Map.entry("DEPTHWISE_CONV_2D/1", "1.5.0"), Map.entry("DEPTHWISE_CONV_2D/2", "1.12.0"),
      Map.entry("DEPTHWISE_CONV_2D/3", "1.14.0"), Map.entry("DEPTHWISE_CONV_2D/4", "2.2.0"),
      Map.entry("DEPTHWISE_CONV_2D/5", "2.3.0"), Map.entry("DEPTHWISE_CONV_2D/6", "2.3.0"),
      Map.entry("ADD/1", "1.5.0"), Map.entry("ADD/2", "1.14.0"), Map.entry("ADD/3", "2.4.0"),
      Map.entry("FULLY_CONNECTED/1", "1.5.0"), Map.entry("FULLY_CONNECTED/2", "1.10.0"),
      Map.entry("FULLY_CONNECTED/3", "1.14.0"), Map.entry("FULLY_CONNECTED/4", "1.14.0"),
      Map.entry("MAX_POOL_2D/1", "1.5.0"), Map.entry("MAX_POOL_2D/2", "1.14.0"), Map.entry("MAX_POOL_2D/3", "2.3.0"),
      Map.entry("RESHAPE/1", "1.5.0"),
      Map.entry("SOFTMAX/1", "1.5.0"), Map.entry("SOFTMAX/2", "1.14.0"), Map.entry("SOFTMAX/3", "2.3.0"),
      Map.entry("MEAN/1", "1.6.0"), Map.entry("MEAN/2", "1.14.0"), Map.entry("MEAN/3", "2.4.0"),
      Map.entry("RELU6/1", "1.5.0"), Map.entry("RELU6/2", "1.14.0"), Map.entry("RELU6/3", "2.5.0"),
      Map.entry("RELU/1", "1.5.0"), Map.entry("RELU/2", "2.1.0"), Map.entry("RELU/3", "2.5.0"),
      Map.entry("TANH/1", "1.14.0"), Map.entry("TANH/2", "1.14.0"), Map.entry("TANH/3", "2.3.0"),
      Map.entry("LOGISTIC/1", "1.14.0"), Map.entry("LOGISTIC/2", "1.14.0"), Map.entry("LOGISTIC/3", "2.3.0"),
      Map.entry("QUANTIZE/1", "1.14.0"), Map.entry("QUANTIZE/2", "1.15.0"),
      Map.entry("DEQUANTIZE/1", "1.13.1"), Map.entry("DEQUANTIZE/2", "1.14.0"), Map.entry("DEQUANTIZE/3", "1.15.0"),
      Map.entry("DEQUANTIZE/4", "2.2.0"),
      Map.entry("CONCATENATION/1", "1.5.0"), Map.entry("CONCATENATION/2", "1.14.0"),
      Map.entry("CONCATENATION/3", "2.3.0"),
      Map.entry("PAD/1", "1.5.0"), Map.entry("PAD/2", "1.14.0"), Map.entry("PAD/3", "2.4.0"), Map.entry("PAD/4", "2.6.0"),
      Map.entry("RESIZE_NEAREST_NEIGHBOR/1", "1.13.1"), Map.entry("RESIZE_NEAREST_NEIGHBOR/2", "1.14.0"),
      Map.entry("RESIZE_NEAREST_NEIGHBOR/3", "2.3.0"), Map.entry("RESIZE_NEAREST_NEIGHBOR/4", "2.4.0"),
      Map.entry("LEAKY_RELU/1", "1.13.1"), Map.entry("LEAKY_RELU/2", "2.3.0"));

  /** "" when the (op, version) pair is not in the table (the converter then skips it too). */
  static String minRuntime(BuiltinOp op, int version) {
    return MIN_RUNTIME.getOrDefault(op.name() + "/" + version, "");
  }

  /** runtime_version.cc CompareRuntimeVersion: true if v1 precedes v2. */
  static boolean precedes(String v1, String v2) {
    String[] a = v1.isEmpty() ? new String[0] : v1.split("\\.");
    String[] b = v2.isEmpty() ? new String[0] : v2.split("\\.");
    int i = 0;
    for (; i < a.length && i < b.length; i++) {
      int x = Integer.parseInt(a[i]);
      int y = Integer.parseInt(b[i]);
      if (x != y) {
        return x < y;
      }
    }
    return i < b.length;
  }
}
