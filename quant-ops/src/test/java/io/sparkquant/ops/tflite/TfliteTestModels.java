package io.sparkquant.ops.tflite;

import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import java.util.ArrayList;
import java.util.List;

/**
 * Tiny TFLite models for tests, and a one-call way to run them in the real TFLite 2.6.2 runtime.
 *
 * <p>Single-op models: {@code singleOp(BuiltinOp.CONV_2D, 3, options).input(...).constant(...).output(...).build()}
 * adds tensors in call order; operator inputs are the inputs, constants and {@link SingleOp#omitted()} slots
 * in call order, the model inputs are the {@code input(...)} tensors, the outputs the {@code output(...)} ones.
 */
public final class TfliteTestModels {

  private TfliteTestModels() {}

  /** Writes the model, loads it into TFLite 2.6.2 with one thread, runs once, closes. */
  public static Object[] runInTflite(TfliteModel model, Object... inputs) {
    try (TfliteRuntime runtime = TfliteRuntime.create(TfliteWriter.write(model), 1)) {
      return runtime.run(inputs);
    }
  }

  public static SingleOp singleOp(BuiltinOp op, int version, OperatorOptions options) {
    return new SingleOp(op, version, options);
  }

  /** Fluent builder of a model with exactly one operator. */
  public static final class SingleOp {
    private final BuiltinOp op;
    private final int version;
    private final OperatorOptions options;
    private final TfliteModel.Builder builder = TfliteModel.builder();
    private final List<Integer> opInputs = new ArrayList<>();
    private final List<Integer> opOutputs = new ArrayList<>();
    private final List<Integer> modelInputs = new ArrayList<>();

    private SingleOp(BuiltinOp op, int version, OperatorOptions options) {
      this.op = op;
      this.version = version;
      this.options = options;
      builder.description("single " + op + " v" + version);
    }

    /** A model input (activation), also the next operator input. */
    public SingleOp input(String name, TensorType type, int[] shape, TfliteQuantization quantization) {
      int t = builder.addTensor(TfliteTensor.activation(name, type, shape, quantization));
      opInputs.add(t);
      modelInputs.add(t);
      return this;
    }

    /** A constant operator input (weights, bias, shape). */
    public SingleOp constant(TfliteTensor tensor) {
      if (!tensor.isConstant()) {
        throw new IllegalArgumentException("constant(...) needs a tensor with data: " + tensor.name());
      }
      opInputs.add(builder.addTensor(tensor));
      return this;
    }

    /** An omitted optional operator input (index -1), e.g. no bias. */
    public SingleOp omitted() {
      opInputs.add(-1);
      return this;
    }

    /** An operator output, also a model output. */
    public SingleOp output(String name, TensorType type, int[] shape, TfliteQuantization quantization) {
      opOutputs.add(builder.addTensor(TfliteTensor.activation(name, type, shape, quantization)));
      return this;
    }

    public TfliteModel build() {
      builder.addOperator(TfliteOperator.of(op, version, toArray(opInputs), toArray(opOutputs), options));
      builder.inputs(toArray(modelInputs)).outputs(toArray(opOutputs));
      return builder.build();
    }
  }

  // ------------------------------------------------------------------------------------ ready-made models

  /** out = a + b, float32, both inputs of {@code shape}. */
  public static TfliteModel floatAdd(int[] shape) {
    return singleOp(BuiltinOp.ADD, 1, new OperatorOptions.AddParams(FusedActivation.NONE))
        .input("a", TensorType.FLOAT32, shape, null)
        .input("b", TensorType.FLOAT32, shape, null)
        .output("sum", TensorType.FLOAT32, shape, null)
        .build();
  }

  /**
   * out[b][o] = act(sum_i x[b][i] * w[o][i] + bias[o]), float32. {@code weights} is row-major [outputs][inputs]
   * (TFLite's FULLY_CONNECTED layout); {@code bias} may be null (omitted input).
   */
  public static TfliteModel floatFullyConnected(int batch, int inputs, int outputs, float[] weights, float[] bias,
      FusedActivation activation) {
    SingleOp m = singleOp(BuiltinOp.FULLY_CONNECTED, 1, new OperatorOptions.FullyConnectedParams(activation, false, false))
        .input("x", TensorType.FLOAT32, new int[] {batch, inputs}, null)
        .constant(TfliteTensor.constantFloat32("w", new int[] {outputs, inputs}, weights));
    if (bias == null) {
      m.omitted();
    } else {
      m.constant(TfliteTensor.constantFloat32("bias", new int[] {outputs}, bias));
    }
    return m.output("y", TensorType.FLOAT32, new int[] {batch, outputs}, null).build();
  }

  /** Parameters of the int8 FULLY_CONNECTED model: per-tensor input, weights, output. */
  public record Int8FcParams(float inputScale, int inputZeroPoint, float weightScale, float outputScale,
      int outputZeroPoint) {}

  /**
   * Float in, QUANTIZE -> int8 FULLY_CONNECTED (per-tensor weights, int32 bias) -> DEQUANTIZE, float out.
   * {@code weights} are int8 [outputs][inputs]; {@code bias} int32 with scale inputScale * weightScale.
   */
  public static TfliteModel int8FullyConnected(int batch, int inputs, int outputs, byte[] weights, int[] bias,
      Int8FcParams p) {
    TfliteModel.Builder b = TfliteModel.builder().description("int8 fully connected");
    int x = b.addTensor(TfliteTensor.activation("x", TensorType.FLOAT32, new int[] {batch, inputs}, null));
    int xq = b.addTensor(TfliteTensor.activation("x_int8", TensorType.INT8, new int[] {batch, inputs},
        TfliteQuantization.perTensor(p.inputScale(), p.inputZeroPoint())));
    int w = b.addTensor(TfliteTensor.constantBytes("w", TensorType.INT8, new int[] {outputs, inputs}, weights,
        TfliteQuantization.perTensor(p.weightScale(), 0)));
    int bias32 = b.addTensor(TfliteTensor.constantInt32("bias", new int[] {outputs}, bias,
        TfliteQuantization.perTensor(p.inputScale() * p.weightScale(), 0)));
    int yq = b.addTensor(TfliteTensor.activation("y_int8", TensorType.INT8, new int[] {batch, outputs},
        TfliteQuantization.perTensor(p.outputScale(), p.outputZeroPoint())));
    int y = b.addTensor(TfliteTensor.activation("y", TensorType.FLOAT32, new int[] {batch, outputs}, null));
    b.addOperator(TfliteOperator.of(BuiltinOp.QUANTIZE, 1, new int[] {x}, new int[] {xq}, null));
    b.addOperator(TfliteOperator.of(BuiltinOp.FULLY_CONNECTED, 4, new int[] {xq, w, bias32}, new int[] {yq},
        new OperatorOptions.FullyConnectedParams(FusedActivation.NONE, false, false)));
    b.addOperator(TfliteOperator.of(BuiltinOp.DEQUANTIZE, 2, new int[] {yq}, new int[] {y}, null));
    return b.inputs(x).outputs(y).build();
  }

  /**
   * int8 in/out CONV_2D with per-channel weights [outChannels][kh][kw][inChannels] (OHWI), int32 bias
   * with scale inputScale * weightScale[c], stride 1, VALID padding unless {@code padding} says otherwise.
   */
  public static TfliteModel int8Conv2D(int[] inputShape, int outChannels, int kh, int kw, byte[] weights,
      float[] weightScales, int[] bias, float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint,
      Padding padding) {
    int n = inputShape[0];
    int h = inputShape[1];
    int wd = inputShape[2];
    int c = inputShape[3];
    int oh = padding == Padding.SAME ? h : h - kh + 1;
    int ow = padding == Padding.SAME ? wd : wd - kw + 1;
    float[] biasScales = new float[outChannels];
    for (int o = 0; o < outChannels; o++) {
      biasScales[o] = inputScale * weightScales[o];
    }
    return singleOp(BuiltinOp.CONV_2D, 3,
        new OperatorOptions.ConvParams(padding, 1, 1, FusedActivation.NONE, 1, 1))
        .input("x", TensorType.INT8, inputShape, TfliteQuantization.perTensor(inputScale, inputZeroPoint))
        .constant(TfliteTensor.constantBytes("w", TensorType.INT8, new int[] {outChannels, kh, kw, c}, weights,
            new TfliteQuantization(weightScales.clone(), new long[outChannels], 0)))
        .constant(TfliteTensor.constantInt32("bias", new int[] {outChannels}, bias,
            new TfliteQuantization(biasScales, new long[outChannels], 0)))
        .output("y", TensorType.INT8, new int[] {n, oh, ow, outChannels},
            TfliteQuantization.perTensor(outputScale, outputZeroPoint))
        .build();
  }

  private static int[] toArray(List<Integer> list) {
    return list.stream().mapToInt(Integer::intValue).toArray();
  }
}
