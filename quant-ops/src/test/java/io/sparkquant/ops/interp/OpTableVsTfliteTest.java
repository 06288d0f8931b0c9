package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.Judge.biasQuantization;
import static io.sparkquant.ops.interp.Judge.floats;
import static io.sparkquant.ops.interp.Judge.int16s;
import static io.sparkquant.ops.interp.Judge.int32s;
import static io.sparkquant.ops.interp.Judge.int64s;
import static io.sparkquant.ops.interp.Judge.int8s;
import static io.sparkquant.ops.interp.Judge.logUniform;
import static io.sparkquant.ops.interp.Judge.perChannel;
import static io.sparkquant.ops.interp.Judge.product;
import static io.sparkquant.ops.interp.Judge.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.sparkquant.ops.export.OpVersions;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.ModelCheck;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteTestModels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Enumerates {@link BuiltinOpResolver}'s registrations: for every registered op and every type combination
 * it declares, a small seeded single-op model (at the version the exporter's {@link OpVersions} writes) runs
 * in TFLite 2.6.2 and in the interpreter, integer outputs equal, float outputs within
 * {@link Judge#FLOAT_RELATIVE_TOLERANCE} (hybrid: {@link Judge#HYBRID_RELATIVE_TOLERANCE}). A registration or
 * a type combination added without a model here fails the test, as does a model here for something no
 * longer registered.
 */
class OpTableVsTfliteTest {

  private static final int SEEDS = 3;
  private static final TensorType I8 = TensorType.INT8;
  private static final TensorType I16 = TensorType.INT16;
  private static final TensorType F32 = TensorType.FLOAT32;

  /** One case per "OP type-combination" key, as {@code OpRegistration.types()} names the combinations. */
  private static final Map<String, Function<SplittableRandom, Case>> CASES = new LinkedHashMap<>();

  /** A model, its input and the float tolerance of its comparison. */
  record Case(TfliteModel model, Object input, float floatTolerance) {
    Case(TfliteModel model, Object input) {
      this(model, input, Judge.FLOAT_RELATIVE_TOLERANCE);
    }
  }

  static {
    for (BuiltinOp op : new BuiltinOp[] {BuiltinOp.FULLY_CONNECTED, BuiltinOp.CONV_2D, BuiltinOp.DEPTHWISE_CONV_2D}) {
      boolean fc = op == BuiltinOp.FULLY_CONNECTED;
      CASES.put(op + (fc ? " int8" : " int8 per-channel"), rnd -> weighted(rnd, op, I8, I8));
      CASES.put(op + " int16x8", rnd -> weighted(rnd, op, I16, I8));
      CASES.put(op + " float32", rnd -> weighted(rnd, op, F32, F32));
      CASES.put(op + (fc ? " hybrid int8-weight" : " hybrid"), rnd -> weighted(rnd, op, F32, I8));
    }
    for (BuiltinOp op : new BuiltinOp[] {BuiltinOp.MAX_POOL_2D, BuiltinOp.AVERAGE_POOL_2D, BuiltinOp.MEAN,
        BuiltinOp.SOFTMAX, BuiltinOp.RELU, BuiltinOp.RELU6, BuiltinOp.LEAKY_RELU, BuiltinOp.PAD,
        BuiltinOp.RESIZE_NEAREST_NEIGHBOR}) {
      CASES.put(op + " int8", rnd -> unary(rnd, op, I8, I8));
      CASES.put(op + " int16", rnd -> unary(rnd, op, I16, I16));
      CASES.put(op + " float32", rnd -> unary(rnd, op, F32, F32));
    }
    for (BuiltinOp op : new BuiltinOp[] {BuiltinOp.LOGISTIC, BuiltinOp.TANH}) {
      CASES.put(op + " int8", rnd -> unary(rnd, op, I8, I8));
      CASES.put(op + " int16 with a non-power-of-two input scale", rnd -> unary(rnd, op, I16, I16));
      CASES.put(op + " float32", rnd -> unary(rnd, op, F32, F32));
    }
    CASES.put("ADD int8", rnd -> add(rnd, I8));
    CASES.put("ADD int16 with non-power-of-two scales", rnd -> add(rnd, I16));
    CASES.put("ADD float32", rnd -> add(rnd, F32));
    CASES.put("CONCATENATION int8 with equal input and output parameters", rnd -> concatenation(rnd, I8));
    CASES.put("CONCATENATION int16", rnd -> concatenation(rnd, I16));
    CASES.put("CONCATENATION float32", rnd -> concatenation(rnd, F32));
    CASES.put("RESHAPE any type", rnd -> unary(rnd, BuiltinOp.RESHAPE, I8, I8));
    for (TensorType in : new TensorType[] {F32, I8, I16}) {
      for (TensorType out : new TensorType[] {I8, I16}) {
        if (in != I8 || out != I16) { // TFLite 2.6.2 requantizes int8 only to int8
          CASES.put("QUANTIZE " + name(in) + " to " + name(out), rnd -> unary(rnd, BuiltinOp.QUANTIZE, in, out));
        }
      }
    }
    CASES.put("DEQUANTIZE int8 to float32", rnd -> unary(rnd, BuiltinOp.DEQUANTIZE, I8, F32));
    CASES.put("DEQUANTIZE int16 to float32", rnd -> unary(rnd, BuiltinOp.DEQUANTIZE, I16, F32));
    CASES.put("DEQUANTIZE float16 to float32", OpTableVsTfliteTest::float16Weights);
    CASES.put("SUB int8", rnd -> subOrMul(rnd, BuiltinOp.SUB, I8));
    CASES.put("SUB int16 with general scales", rnd -> subOrMul(rnd, BuiltinOp.SUB, I16));
    CASES.put("SUB float32", rnd -> subOrMul(rnd, BuiltinOp.SUB, F32));
    for (TensorType t : new TensorType[] {I8, I16, F32}) {
      CASES.put("MUL " + name(t), rnd -> subOrMul(rnd, BuiltinOp.MUL, t));
    }
    for (TensorType t : new TensorType[] {I8, I16, TensorType.INT32, F32}) {
      CASES.put("STRIDED_SLICE " + name(t), rnd -> stridedSlice(rnd, t));
    }
    CASES.put("TRANSPOSE_CONV int8 per-channel", rnd -> transposeConv(rnd, I8));
    CASES.put("TRANSPOSE_CONV int16x8", rnd -> transposeConv(rnd, I16));
    CASES.put("TRANSPOSE_CONV float32", rnd -> transposeConv(rnd, F32));
    CASES.put("HARD_SWISH int8", rnd -> unary(rnd, BuiltinOp.HARD_SWISH, I8, I8));
    CASES.put("HARD_SWISH float32", rnd -> unary(rnd, BuiltinOp.HARD_SWISH, F32, F32));
  }

  @Test
  void everyOpTheExporterWritesIsRegistered() {
    // OpVersions.version covers every BuiltinOp the exporter can write
    for (BuiltinOp op : BuiltinOp.values()) {
      assertNotNull(BuiltinOpResolver.INSTANCE.find(op), op + " is not registered");
    }
  }

  @Test
  void everyRegisteredTypeCombinationRunsBitExactWithTflite() {
    TreeSet<String> registered = new TreeSet<>();
    for (OpRegistration r : BuiltinOpResolver.INSTANCE.registrations()) {
      for (String types : r.types()) {
        registered.add(r.op() + " " + types);
      }
    }
    assertEquals(registered, new TreeSet<>(CASES.keySet()),
        "every registered (op, type combination) needs a model here, and only those");
    for (String key : registered) {
      for (int seed = 0; seed < SEEDS; seed++) {
        Case c = CASES.get(key).apply(new SplittableRandom(key.hashCode() * 31L + seed));
        String context = key + " seed " + seed;
        assertEquals(List.of(), ModelCheck.verify(c.model(), BuiltinOpResolver.INSTANCE), context);
        Judge.checkWithin(context, c.model(), c.floatTolerance(), c.input());
      }
    }
  }

  private static String name(TensorType t) {
    return t.name().toLowerCase(java.util.Locale.ROOT);
  }

  private static int version(BuiltinOp op, TensorType in, TensorType weights, TensorType out, boolean perChannel) {
    return OpVersions.version(op, in, weights, out, perChannel, false);
  }

  /** Activation quantization for the type: int8 with a zero point, int16 symmetric, float none. */
  private static TfliteQuantization activation(SplittableRandom rnd, TensorType t, double lo, double hi) {
    return switch (t) {
      case INT8 -> q(logUniform(rnd, lo, hi), rnd.nextInt(-20, 21));
      case INT16 -> q(logUniform(rnd, lo / 256, hi / 256), 0);
      default -> null;
    };
  }

  private static Object data(SplittableRandom rnd, TensorType t, int n) {
    return switch (t) {
      case INT8 -> int8s(rnd, n, -128, 127);
      case INT16 -> int16s(rnd, n, -32768, 32767);
      case INT32 -> int32s(rnd, n, -100000, 100000);
      default -> floats(rnd, n, -6, 6);
    };
  }

  /** FULLY_CONNECTED, CONV_2D or DEPTHWISE_CONV_2D with constant weights and bias. */
  private static Case weighted(SplittableRandom rnd, BuiltinOp op, TensorType act, TensorType weightType) {
    int batch = rnd.nextInt(1, 3);
    int cin = rnd.nextInt(1, 4);
    int[] inShape;
    int[] filterShape;
    int[] outShape;
    int channels;
    int depth;
    int quantizedDimension;
    OperatorOptions options;
    switch (op) {
      case FULLY_CONNECTED -> {
        depth = rnd.nextInt(2, 9);
        channels = rnd.nextInt(1, 6);
        inShape = new int[] {batch, depth};
        filterShape = new int[] {channels, depth};
        outShape = new int[] {batch, channels};
        quantizedDimension = 0;
        options = new OperatorOptions.FullyConnectedParams(FusedActivation.RELU, false, false);
      }
      case CONV_2D -> {
        channels = rnd.nextInt(1, 5);
        depth = 9 * cin;
        inShape = new int[] {batch, 5, 4, cin};
        filterShape = new int[] {channels, 3, 3, cin};
        outShape = new int[] {batch, 5, 4, channels};
        quantizedDimension = 0;
        options = new OperatorOptions.ConvParams(Padding.SAME, 1, 1, FusedActivation.RELU6, 1, 1);
      }
      default -> {
        channels = cin * 2;
        depth = 9;
        inShape = new int[] {batch, 5, 4, cin};
        filterShape = new int[] {1, 3, 3, channels};
        outShape = new int[] {batch, 5, 4, channels};
        quantizedDimension = 3;
        options = new OperatorOptions.DepthwiseConvParams(Padding.SAME, 1, 1, 2, FusedActivation.NONE, 1, 1);
      }
    }
    int weights = product(filterShape);
    boolean perChannel = op != BuiltinOp.FULLY_CONNECTED && weightType == I8;
    float[] filterScales = new float[perChannel ? channels : 1];
    for (int c = 0; c < filterScales.length; c++) {
      filterScales[c] = logUniform(rnd, 0.005, 0.05);
    }
    if (perChannel && channels > 1 && act == F32) {
      filterScales[1] = filterScales[0] * 1.5f; // hybrid conv takes its per-channel path only for distinct scales
    }
    TfliteQuantization inQ = activation(rnd, act, 0.02, 0.1);
    var m = TfliteTestModels.singleOp(op, version(op, act, weightType, act, perChannel), options)
        .input("x", act, inShape, inQ);
    if (weightType == I8) {
      m.constant(TfliteTensor.constantBytes("w", I8, filterShape, int8s(rnd, weights, -127, 127),
          perChannel ? perChannel(filterScales, quantizedDimension) : q(filterScales[0], 0)));
    } else {
      m.constant(TfliteTensor.constantFloat32("w", filterShape, floats(rnd, weights, -1, 1)));
    }
    float tolerance = act == F32 && weightType == I8 ? Judge.HYBRID_RELATIVE_TOLERANCE
        : Judge.FLOAT_RELATIVE_TOLERANCE;
    if (act == I8) {
      m.constant(TfliteTensor.constantInt32("b", new int[] {channels}, int32s(rnd, channels, -2000, 2000),
          biasQuantization(inQ.scale()[0], filterScales)));
    } else if (act == I16) {
      m.constant(TfliteTensor.constantInt64("b", new int[] {channels}, int64s(rnd, channels, -50000, 50000),
          biasQuantization(inQ.scale()[0], filterScales)));
    } else {
      m.constant(TfliteTensor.constantFloat32("b", new int[] {channels}, floats(rnd, channels, -1, 1)));
    }
    TfliteQuantization outQ = act == F32 ? null
        : q((float) (inQ.scale()[0] * filterScales[0] * Math.sqrt(depth) * 40), act == I8 ? rnd.nextInt(-20, 21) : 0);
    TfliteModel model = m.output("y", act, outShape, outQ).build();
    return new Case(model, data(rnd, act, product(inShape)), tolerance);
  }

  /** A one-input op whose output has the input's shape (or, for pools, MEAN and RESHAPE, the obvious one). */
  private static Case unary(SplittableRandom rnd, BuiltinOp op, TensorType in, TensorType out) {
    int[] shape = {rnd.nextInt(1, 3), 4, 6, rnd.nextInt(1, 4)};
    int[] outShape = shape;
    TfliteQuantization inQ = activation(rnd, in, 0.01, 0.1);
    TfliteQuantization outQ = activation(rnd, out, 0.01, 0.1);
    OperatorOptions options = null;
    TfliteTensor constant = null;
    switch (op) {
      case MAX_POOL_2D, AVERAGE_POOL_2D -> {
        options = new OperatorOptions.PoolParams(Padding.SAME, 2, 2, 2, 3, FusedActivation.NONE);
        outShape = new int[] {shape[0], 2, 3, shape[3]};
        outQ = inQ; // TFLite's pools keep the input's parameters
      }
      case MEAN -> {
        options = new OperatorOptions.ReducerParams(true);
        constant = TfliteTensor.constantInt32("axis", new int[] {2}, new int[] {1, 2}, null);
        outShape = new int[] {shape[0], 1, 1, shape[3]};
      }
      case RESHAPE -> {
        outShape = new int[] {shape[0], product(shape) / shape[0]};
        options = new OperatorOptions.ReshapeParams(new int[] {-1, outShape[1]});
        outQ = inQ;
      }
      case SOFTMAX -> {
        options = new OperatorOptions.SoftmaxParams(1f);
        outQ = out == I8 ? q(1f / 256, -128) : out == I16 ? q(1f / 32768, 0) : null;
      }
      case LEAKY_RELU -> options = new OperatorOptions.LeakyReluParams(0.2f);
      case PAD -> {
        constant = TfliteTensor.constantInt32("paddings", new int[] {4, 2}, new int[] {0, 0, 1, 2, 2, 1, 0, 0}, null);
        outShape = new int[] {shape[0], 7, 9, shape[3]};
        outQ = inQ; // padding keeps the input's parameters
      }
      case RESIZE_NEAREST_NEIGHBOR -> {
        options = new OperatorOptions.ResizeNearestNeighborParams(false, false);
        constant = TfliteTensor.constantInt32("size", new int[] {2}, new int[] {8, 12}, null);
        outShape = new int[] {shape[0], 8, 12, shape[3]};
        outQ = inQ;
      }
      case LOGISTIC -> outQ = out == I8 ? q(1f / 256, -128) : out == I16 ? q(1f / 32768, 0) : null;
      case TANH -> outQ = out == I8 ? q(1f / 128, 0) : out == I16 ? q(1f / 32768, 0) : null;
      default -> { }
    }
    if ((op == BuiltinOp.LOGISTIC || op == BuiltinOp.TANH) && in == I16) {
      inQ = q(logUniform(rnd, 1e-4, 3e-4) * 1.1f, 0); // non-power-of-two input scale
    }
    // HARD_SWISH has one version and the exporter never writes it
    int version = op == BuiltinOp.HARD_SWISH ? 1 : version(op, in, null, out, false);
    var m = TfliteTestModels.singleOp(op, version, options).input("x", in, shape, inQ);
    if (constant != null) {
      m.constant(constant);
    }
    TfliteModel model = m.output("y", out, outShape, outQ).build();
    return new Case(model, data(rnd, in, product(shape)));
  }

  private static Case add(SplittableRandom rnd, TensorType t) {
    int[] shape = {rnd.nextInt(1, 3), 3, 5};
    TfliteQuantization a = activation(rnd, t, 0.01, 0.1);
    TfliteQuantization b = activation(rnd, t, 0.01, 0.1);
    TfliteQuantization y = activation(rnd, t, 0.02, 0.2);
    // the second operand is a constant broadcast over the batch, so the model has one input
    TfliteTensor bConst = switch (t) {
      case INT8 -> TfliteTensor.constantBytes("b", t, new int[] {1, 3, 5}, int8s(rnd, 15, -128, 127), b);
      case INT16 -> Judge.constantInt16("b", t, new int[] {1, 3, 5}, int16s(rnd, 15, -32768, 32767), b);
      default -> TfliteTensor.constantFloat32("b", new int[] {1, 3, 5}, floats(rnd, 15, -4, 4));
    };
    List<TfliteTensor> tensors = new ArrayList<>();
    tensors.add(TfliteTensor.activation("a", t, shape, a));
    tensors.add(bConst);
    tensors.add(TfliteTensor.activation("y", t, shape, y));
    TfliteModel model = new TfliteModel("ADD " + t, tensors, List.of(TfliteOperator.of(BuiltinOp.ADD,
        version(BuiltinOp.ADD, t, null, t, false), new int[] {0, 1}, new int[] {2},
        new OperatorOptions.AddParams(FusedActivation.RELU))), new int[] {0}, new int[] {2}, Map.of());
    return new Case(model, data(rnd, t, product(shape)));
  }

  /** CONCATENATION of the input with a constant along the channels, every tensor with the same parameters. */
  private static Case concatenation(SplittableRandom rnd, TensorType t) {
    int[] shape = {1, 3, 4, rnd.nextInt(1, 4)};
    int[] constShape = {1, 3, 4, 2};
    TfliteQuantization qp = activation(rnd, t, 0.01, 0.1);
    TfliteTensor other = switch (t) {
      case INT8 -> TfliteTensor.constantBytes("c", t, constShape, int8s(rnd, 24, -128, 127), qp);
      case INT16 -> Judge.constantInt16("c", t, constShape, int16s(rnd, 24, -32768, 32767), qp);
      default -> TfliteTensor.constantFloat32("c", constShape, floats(rnd, 24, -4, 4));
    };
    TfliteModel model = TfliteTestModels.singleOp(BuiltinOp.CONCATENATION,
            version(BuiltinOp.CONCATENATION, t, null, t, false),
            new OperatorOptions.ConcatenationParams(3, FusedActivation.NONE))
        .input("x", t, shape, qp).constant(other)
        .output("y", t, new int[] {1, 3, 4, shape[3] + 2}, qp).build();
    return new Case(model, data(rnd, t, product(shape)));
  }

  /** float16 weights as the float16 export writes them: DEQUANTIZE(constant) feeding an ADD. */
  private static Case float16Weights(SplittableRandom rnd) {
    int[] shape = {rnd.nextInt(1, 3), 6};
    short[] halves = new short[6];
    for (int i = 0; i < halves.length; i++) { // IEEE half bits: sign, exponent 2^-5..2^5, random mantissa
      halves[i] = (short) (rnd.nextInt(2) << 15 | rnd.nextInt(10, 21) << 10 | rnd.nextInt(1 << 10));
    }
    List<TfliteTensor> tensors = List.of(
        TfliteTensor.activation("x", F32, shape, null),
        Judge.constantInt16("w16", TensorType.FLOAT16, new int[] {1, 6}, halves, null),
        TfliteTensor.activation("w", F32, new int[] {1, 6}, null),
        TfliteTensor.activation("y", F32, shape, null));
    List<TfliteOperator> ops = List.of(
        TfliteOperator.of(BuiltinOp.DEQUANTIZE, version(BuiltinOp.DEQUANTIZE, TensorType.FLOAT16, null, F32, false),
            new int[] {1}, new int[] {2}, null),
        TfliteOperator.of(BuiltinOp.ADD, 1, new int[] {0, 2}, new int[] {3},
            new OperatorOptions.AddParams(FusedActivation.NONE)));
    TfliteModel model = new TfliteModel("float16 weights", tensors, ops, new int[] {0}, new int[] {3}, Map.of());
    return new Case(model, floats(rnd, product(shape), -3, 3));
  }

  /** SUB or MUL with a constant second operand broadcast over the batch (ops the converter writes, not the exporter). */
  private static Case subOrMul(SplittableRandom rnd, BuiltinOp op, TensorType t) {
    int[] shape = {rnd.nextInt(1, 3), 3, 5};
    TfliteQuantization a = activation(rnd, t, 0.01, 0.1);
    TfliteQuantization b = activation(rnd, t, 0.01, 0.1);
    TfliteQuantization y = op == BuiltinOp.SUB || t == F32 ? activation(rnd, t, 0.02, 0.2)
        : q(a.scale()[0] * b.scale()[0] * (t == I8 ? 2000 : 30000), t == I8 ? rnd.nextInt(-20, 21) : 0);
    TfliteTensor bConst = switch (t) {
      case INT8 -> TfliteTensor.constantBytes("b", t, new int[] {1, 3, 5}, int8s(rnd, 15, -128, 127), b);
      case INT16 -> Judge.constantInt16("b", t, new int[] {1, 3, 5}, int16s(rnd, 15, -32768, 32767), b);
      default -> TfliteTensor.constantFloat32("b", new int[] {1, 3, 5}, floats(rnd, 15, -4, 4));
    };
    OperatorOptions options = op == BuiltinOp.SUB ? new OperatorOptions.SubParams(FusedActivation.RELU, false)
        : new OperatorOptions.MulParams(FusedActivation.RELU);
    int version = t == I8 ? 2 : t == I16 ? (op == BuiltinOp.SUB ? 5 : 4) : 1;
    TfliteModel model = TfliteTestModels.singleOp(op, version, options).input("a", t, shape, a).constant(bConst)
        .output("y", t, shape, y).build();
    return new Case(model, data(rnd, t, product(shape)));
  }

  /** x[:, 1:4, ::-2, :] (begin and end masks on the batch and channel axes). */
  private static Case stridedSlice(SplittableRandom rnd, TensorType t) {
    int[] shape = {rnd.nextInt(1, 3), 4, 6, rnd.nextInt(1, 4)};
    TfliteQuantization q = activation(rnd, t, 0.01, 0.1);
    TfliteModel model = TfliteTestModels.singleOp(BuiltinOp.STRIDED_SLICE, t == I16 ? 5 : t == I8 ? 2 : 1,
            new OperatorOptions.StridedSliceParams(0b1001, 0b1101, 0, 0, 0, false))
        .input("x", t, shape, q)
        .constant(TfliteTensor.constantInt32("begin", new int[] {4}, new int[] {0, 1, -1, 0}, null))
        .constant(TfliteTensor.constantInt32("end", new int[] {4}, new int[] {0, 4, 0, 0}, null))
        .constant(TfliteTensor.constantInt32("strides", new int[] {4}, new int[] {1, 1, -2, 1}, null))
        .output("y", t, new int[] {shape[0], 3, 3, shape[3]}, q).build();
    return new Case(model, data(rnd, t, product(shape)));
  }

  /** A stride-2 SAME TRANSPOSE_CONV [b, 3, 3, cin] to [b, 6, 6, cout] with bias. */
  private static Case transposeConv(SplittableRandom rnd, TensorType t) {
    int batch = rnd.nextInt(1, 3);
    int cin = rnd.nextInt(1, 4);
    int cout = rnd.nextInt(1, 4);
    int[] inShape = {batch, 3, 3, cin};
    int[] filterShape = {cout, 3, 3, cin};
    int[] outShape = {batch, 6, 6, cout};
    float[] filterScales = new float[cout];
    for (int c = 0; c < cout; c++) {
      filterScales[c] = logUniform(rnd, 0.005, 0.05);
    }
    TfliteQuantization inQ = activation(rnd, t, 0.02, 0.1);
    var m = TfliteTestModels.singleOp(BuiltinOp.TRANSPOSE_CONV, 3,
            new OperatorOptions.TransposeConvParams(Padding.SAME, 2, 2, FusedActivation.NONE))
        .constant(TfliteTensor.constantInt32("output_shape", new int[] {4}, outShape, null));
    if (t == F32) {
      m.constant(TfliteTensor.constantFloat32("w", filterShape, floats(rnd, product(filterShape), -1, 1)))
          .input("x", t, inShape, null)
          .constant(TfliteTensor.constantFloat32("b", new int[] {cout}, floats(rnd, cout, -1, 1)));
    } else {
      m.constant(TfliteTensor.constantBytes("w", I8, filterShape, int8s(rnd, product(filterShape), -127, 127),
          perChannel(filterScales, 0))).input("x", t, inShape, inQ);
      m.constant(t == I8
          ? TfliteTensor.constantInt32("b", new int[] {cout}, int32s(rnd, cout, -2000, 2000),
              biasQuantization(inQ.scale()[0], filterScales))
          : TfliteTensor.constantInt64("b", new int[] {cout}, int64s(rnd, cout, -50000, 50000),
              biasQuantization(inQ.scale()[0], filterScales)));
    }
    TfliteQuantization outQ = t == F32 ? null
        : q((float) (inQ.scale()[0] * filterScales[0] * Math.sqrt(9 * cin) * 40), t == I8 ? rnd.nextInt(-20, 21) : 0);
    return new Case(m.output("y", t, outShape, outQ).build(), data(rnd, t, product(inShape)));
  }
}
