package io.sparkquant.ops.interp;

import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.SplittableRandom;

/**
 * A Fashion-MNIST-sized int8 CNN with random weights, as an exporter would write it: float input ->
 * QUANTIZE -> CONV 3x3x16 (RELU) -> MAX_POOL 2x2 -> CONV 3x3x32 (RELU) -> MAX_POOL 2x2 -> RESHAPE ->
 * FULLY_CONNECTED 10 -> SOFTMAX -> DEQUANTIZE -> float output. Used by interpreter tests, the run command
 * tests and the benchmark.
 */
public final class TestCnn {

  private TestCnn() {}

  /** @param floatIo float32 input/output with QUANTIZE/DEQUANTIZE; otherwise int8 input and output */
  public static TfliteModel build(long seed, int batch, boolean floatIo) {
    SplittableRandom rnd = new SplittableRandom(seed);
    TfliteModel.Builder b = TfliteModel.builder().description("test cnn seed " + seed);
    TfliteQuantization inQ = TfliteQuantization.perTensor(1f / 255, -128);
    int x8 = b.addTensor(TfliteTensor.activation("image_int8", TensorType.INT8, new int[] {batch, 28, 28, 1}, inQ));
    int input = x8;
    if (floatIo) {
      input = b.addTensor(TfliteTensor.activation("image", TensorType.FLOAT32, new int[] {batch, 28, 28, 1}, null));
      b.addOperator(TfliteOperator.of(BuiltinOp.QUANTIZE, 1, new int[] {input}, new int[] {x8}, null));
    }
    TfliteQuantization c1Q = TfliteQuantization.perTensor(0.02f, -128);
    int c1 = conv(b, rnd, "conv1", x8, inQ.scale()[0], new int[] {batch, 28, 28, 16}, 1, 16, c1Q);
    TfliteQuantization p1Q = c1Q;
    int p1 = b.addTensor(TfliteTensor.activation("pool1", TensorType.INT8, new int[] {batch, 14, 14, 16}, p1Q));
    b.addOperator(TfliteOperator.of(BuiltinOp.MAX_POOL_2D, 2, new int[] {c1}, new int[] {p1},
        new OperatorOptions.PoolParams(Padding.VALID, 2, 2, 2, 2, FusedActivation.NONE)));
    TfliteQuantization c2Q = TfliteQuantization.perTensor(0.05f, -128);
    int c2 = conv(b, rnd, "conv2", p1, p1Q.scale()[0], new int[] {batch, 14, 14, 32}, 16, 32, c2Q);
    int p2 = b.addTensor(TfliteTensor.activation("pool2", TensorType.INT8, new int[] {batch, 7, 7, 32}, c2Q));
    b.addOperator(TfliteOperator.of(BuiltinOp.MAX_POOL_2D, 2, new int[] {c2}, new int[] {p2},
        new OperatorOptions.PoolParams(Padding.VALID, 2, 2, 2, 2, FusedActivation.NONE)));
    int shape = b.addTensor(TfliteTensor.constantInt32("flatten_shape", new int[] {2}, new int[] {-1, 7 * 7 * 32},
        null));
    int flat = b.addTensor(TfliteTensor.activation("flatten", TensorType.INT8, new int[] {batch, 7 * 7 * 32}, c2Q));
    b.addOperator(TfliteOperator.of(BuiltinOp.RESHAPE, 1, new int[] {p2, shape}, new int[] {flat},
        new OperatorOptions.ReshapeParams(new int[] {-1, 7 * 7 * 32})));
    int depth = 7 * 7 * 32;
    float wScale = 0.004f;
    int w = b.addTensor(TfliteTensor.constantBytes("dense/weights", TensorType.INT8, new int[] {10, depth},
        Judge.int8s(rnd, 10 * depth, -127, 127), TfliteQuantization.perTensor(wScale, 0)));
    int bias = b.addTensor(TfliteTensor.constantInt32("dense/bias", new int[] {10}, Judge.int32s(rnd, 10, -2000, 2000),
        TfliteQuantization.perTensor(c2Q.scale()[0] * wScale, 0)));
    int logits = b.addTensor(TfliteTensor.activation("logits", TensorType.INT8, new int[] {batch, 10},
        TfliteQuantization.perTensor(0.25f, 0)));
    b.addOperator(TfliteOperator.of(BuiltinOp.FULLY_CONNECTED, 4, new int[] {flat, w, bias}, new int[] {logits},
        new OperatorOptions.FullyConnectedParams(FusedActivation.NONE, false, false)));
    int probs8 = b.addTensor(TfliteTensor.activation("probs_int8", TensorType.INT8, new int[] {batch, 10},
        TfliteQuantization.perTensor(1f / 256, -128)));
    b.addOperator(TfliteOperator.of(BuiltinOp.SOFTMAX, 2, new int[] {logits}, new int[] {probs8},
        new OperatorOptions.SoftmaxParams(1f)));
    int output = probs8;
    if (floatIo) {
      output = b.addTensor(TfliteTensor.activation("probs", TensorType.FLOAT32, new int[] {batch, 10}, null));
      b.addOperator(TfliteOperator.of(BuiltinOp.DEQUANTIZE, 2, new int[] {probs8}, new int[] {output}, null));
    }
    return b.inputs(input).outputs(output).build();
  }

  private static int conv(TfliteModel.Builder b, SplittableRandom rnd, String name, int input, float inScale,
      int[] outShape, int cin, int cout, TfliteQuantization outQ) {
    float[] scales = new float[cout];
    for (int c = 0; c < cout; c++) {
      scales[c] = Judge.logUniform(rnd, 0.002, 0.01);
    }
    int w = b.addTensor(TfliteTensor.constantBytes(name + "/weights", TensorType.INT8, new int[] {cout, 3, 3, cin},
        Judge.int8s(rnd, cout * 9 * cin, -127, 127), Judge.perChannel(scales, 0)));
    int bias = b.addTensor(TfliteTensor.constantInt32(name + "/bias", new int[] {cout},
        Judge.int32s(rnd, cout, -500, 500), Judge.biasQuantization(inScale, scales)));
    int out = b.addTensor(TfliteTensor.activation(name, TensorType.INT8, outShape, outQ));
    b.addOperator(TfliteOperator.of(BuiltinOp.CONV_2D, 3, new int[] {input, w, bias}, new int[] {out},
        new OperatorOptions.ConvParams(Padding.SAME, 1, 1, FusedActivation.RELU, 1, 1)));
    return out;
  }

  /** Random images in [0, 1] (float) with their int8 quantization (scale 1/255, zero point -128). */
  public static float[] images(long seed, int batch) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] x = new float[batch * 28 * 28];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextInt(256) / 255f;
    }
    return x;
  }
}
