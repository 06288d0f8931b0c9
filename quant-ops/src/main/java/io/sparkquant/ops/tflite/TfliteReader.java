package io.sparkquant.ops.tflite;

import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.tflite.schema.AddOptions;
import io.sparkquant.ops.tflite.schema.Buffer;
import io.sparkquant.ops.tflite.schema.BuiltinOperator;
import io.sparkquant.ops.tflite.schema.BuiltinOptions;
import io.sparkquant.ops.tflite.schema.ConcatenationOptions;
import io.sparkquant.ops.tflite.schema.Conv2DOptions;
import io.sparkquant.ops.tflite.schema.DepthwiseConv2DOptions;
import io.sparkquant.ops.tflite.schema.FullyConnectedOptions;
import io.sparkquant.ops.tflite.schema.MulOptions;
import io.sparkquant.ops.tflite.schema.LeakyReluOptions;
import io.sparkquant.ops.tflite.schema.Metadata;
import io.sparkquant.ops.tflite.schema.Model;
import io.sparkquant.ops.tflite.schema.Operator;
import io.sparkquant.ops.tflite.schema.OperatorCode;
import io.sparkquant.ops.tflite.schema.Pool2DOptions;
import io.sparkquant.ops.tflite.schema.QuantizationParameters;
import io.sparkquant.ops.tflite.schema.ReducerOptions;
import io.sparkquant.ops.tflite.schema.ReshapeOptions;
import io.sparkquant.ops.tflite.schema.ResizeNearestNeighborOptions;
import io.sparkquant.ops.tflite.schema.SoftmaxOptions;
import io.sparkquant.ops.tflite.schema.StridedSliceOptions;
import io.sparkquant.ops.tflite.schema.SubOptions;
import io.sparkquant.ops.tflite.schema.TransposeConvOptions;
import io.sparkquant.ops.tflite.schema.SubGraph;
import io.sparkquant.ops.tflite.schema.Tensor;
import java.nio.BufferOverflowException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the TFLite flatbuffer format that {@link TfliteWriter} writes (and TFLite's converter), for
 * single-subgraph models.
 *
 * <p>Reading never trusts the file: every offset is bounds-checked by the buffer, vector lengths are checked
 * against the file size before anything is allocated, and every problem surfaces as an
 * {@link InvalidModelException} naming the tensor or operator.
 */
public final class TfliteReader {

  public static final String FILE_IDENTIFIER = "TFL3";

  /** Highest tensor rank the reader accepts (TFLite kernels use at most 6). */
  private static final int MAX_RANK = 16;

  /** Highest RESHAPE new_shape rank (TFLite's TFLITE_RESHAPE_PARAMS_MAX_DIMENSION_COUNT, flatbuffer_conversions.cc). */
  private static final int MAX_RESHAPE_RANK = 8;

  /**
   * The schema's name for a builtin code (BuiltinOperator.name), or {@code BUILTIN_<code>} for codes newer
   * than the generated schema, so operators from newer converters keep a usable name.
   */
  public static String builtinName(int code) {
    return code >= 0 && code < BuiltinOperator.names.length ? BuiltinOperator.name(code) : "BUILTIN_" + code;
  }

  /**
   * Parses a .tflite file. Throws {@link InvalidModelException} for anything that is not a well-formed
   * single-subgraph TFLite model with tensor types SparkQuant knows; operators outside {@link BuiltinOp}
   * are kept (with {@code op == null}, their schema name, and no options).
   */
  public static TfliteModel read(byte[] bytes) {
    TfliteReader reader = new TfliteReader(bytes);
    try {
      return reader.readModel();
    } catch (InvalidModelException e) {
      throw e;
    } catch (IndexOutOfBoundsException | BufferUnderflowException | BufferOverflowException
        | IllegalArgumentException | NegativeArraySizeException e) {
      throw new InvalidModelException("Corrupt TFLite flatbuffer (" + bytes.length + " bytes): offset or length "
          + "outside the file while reading " + reader.where + ": " + e, e);
    }
  }

  private final byte[] bytes;
  /** Buffer contents by buffer index: tensors sharing a buffer share one copy (a small file cannot need N copies). */
  private final Map<Integer, byte[]> buffers = new java.util.HashMap<>();
  private String where = "the model header";

  private TfliteReader(byte[] bytes) {
    this.bytes = bytes;
  }

  private TfliteModel readModel() {
    if (bytes.length < 8) {
      throw new InvalidModelException("Not a TFLite model: " + bytes.length + " bytes, a flatbuffer has at least 8");
    }
    ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (!Model.ModelBufferHasIdentifier(bb)) {
      String id = new String(bytes, 4, 4, StandardCharsets.ISO_8859_1);
      throw new InvalidModelException("Not a TFLite model: file identifier is '" + printable(id)
          + "', expected '" + FILE_IDENTIFIER + "'");
    }
    Model model = Model.getRootAsModel(bb);
    long version = model.version();
    if (version != TfliteModel.SCHEMA_VERSION) {
      throw new InvalidModelException("Unsupported TFLite schema version " + version + ", expected "
          + TfliteModel.SCHEMA_VERSION);
    }
    int subgraphCount = checkedLength(model.subgraphsLength(), 4, "Model.subgraphs");
    if (subgraphCount != 1) {
      throw new InvalidModelException("TFLite model has " + subgraphCount + " subgraphs; SparkQuant supports"
          + " exactly one (no control flow / multi-signature models)");
    }
    where = "Model.buffers";
    int bufferCount = checkedLength(model.buffersLength(), 4, "Model.buffers");
    where = "Model.description";
    String description = model.description();

    where = "Model.operator_codes";
    int codeCount = checkedLength(model.operatorCodesLength(), 4, "Model.operator_codes");
    int[] codes = new int[codeCount];
    int[] versions = new int[codeCount];
    String[] names = new String[codeCount];
    for (int c = 0; c < codeCount; c++) {
      where = "operator code " + c;
      OperatorCode oc = model.operatorCodes(c);
      // TFLite's GetBuiltinCode: the larger of the two fields wins (old files only set the byte).
      int code = Math.max(oc.builtinCode(), oc.deprecatedBuiltinCode());
      if (code < 0) {
        throw new InvalidModelException("Operator code " + c + " has negative builtin code " + code);
      }
      codes[c] = code;
      versions[c] = oc.version();
      names[c] = code == BuiltinOperator.CUSTOM && oc.customCode() != null ? oc.customCode() : builtinName(code);
    }

    where = "subgraph 0";
    SubGraph sg = model.subgraphs(0);
    int tensorCount = checkedLength(sg.tensorsLength(), 4, "SubGraph.tensors");
    List<TfliteTensor> tensors = new ArrayList<>(tensorCount);
    for (int t = 0; t < tensorCount; t++) {
      where = "tensor " + t;
      tensors.add(readTensor(model, sg.tensors(t), t, bufferCount));
    }

    int opCount = checkedLength(sg.operatorsLength(), 4, "SubGraph.operators");
    List<TfliteOperator> operators = new ArrayList<>(opCount);
    for (int i = 0; i < opCount; i++) {
      where = "operator " + i;
      Operator op = sg.operators(i);
      long opcodeIndex = op.opcodeIndex();
      if (opcodeIndex >= codeCount) {
        throw new InvalidModelException("Operator " + i + " has opcode_index " + opcodeIndex + ", but the model has "
            + codeCount + " operator codes");
      }
      int c = (int) opcodeIndex;
      String label = "operator " + i + " (" + names[c] + ")";
      int[] inputs = readInts(op.inputsLength(), op::inputs, label + " inputs");
      int[] outputs = readInts(op.outputsLength(), op::outputs, label + " outputs");
      checkIndices(inputs, tensorCount, true, label + " input");
      checkIndices(outputs, tensorCount, false, label + " output");
      BuiltinOp known = BuiltinOp.fromCode(codes[c]).orElse(null);
      OperatorOptions options = known == null ? null : readOptions(op, label);
      operators.add(new TfliteOperator(known, names[c], codes[c], versions[c], inputs, outputs, options));
    }
    where = "subgraph 0 inputs/outputs";
    int[] inputs = readInts(sg.inputsLength(), sg::inputs, "SubGraph.inputs");
    int[] outputs = readInts(sg.outputsLength(), sg::outputs, "SubGraph.outputs");
    checkIndices(inputs, tensorCount, false, "model input");
    checkIndices(outputs, tensorCount, false, "model output");

    where = "Model.metadata";
    Map<String, byte[]> metadata = new LinkedHashMap<>();
    int metadataCount = checkedLength(model.metadataLength(), 4, "Model.metadata");
    for (int m = 0; m < metadataCount; m++) {
      where = "metadata entry " + m;
      Metadata md = model.metadata(m);
      String name = md.name();
      if (name == null) {
        throw new InvalidModelException("Metadata entry " + m + " has no name");
      }
      long buffer = md.buffer();
      if (buffer >= bufferCount) {
        throw new InvalidModelException("Metadata entry " + m + " ('" + name + "') points at buffer " + buffer
            + ", but the model has " + bufferCount + " buffers");
      }
      metadata.put(name, bufferBytes(model, (int) buffer, "metadata '" + name + "'"));
    }
    return new TfliteModel(description, tensors, operators, inputs, outputs, metadata);
  }

  private TfliteTensor readTensor(Model model, Tensor t, int index, int bufferCount) {
    String name = t.name();
    String label = "tensor " + index + (name == null ? "" : " '" + name + "'");
    int typeCode = t.type();
    TensorType type;
    try {
      type = TensorType.fromCode(typeCode);
    } catch (IllegalArgumentException e) {
      String schemaName = typeCode >= 0 && typeCode < io.sparkquant.ops.tflite.schema.TensorType.names.length
          ? io.sparkquant.ops.tflite.schema.TensorType.name(typeCode) : "code " + typeCode;
      throw new InvalidModelException(label + " has type " + schemaName + ", which SparkQuant does not support; "
          + "supported: " + Arrays.toString(TensorType.values()), e);
    }
    if (t.sparsity() != null) {
      throw new InvalidModelException(label + " is a sparse tensor, which SparkQuant does not support");
    }
    int rank = t.shapeLength();
    if (rank < 0 || rank > MAX_RANK) {
      throw new InvalidModelException(label + " has rank " + rank + ", expected 0.." + MAX_RANK);
    }
    int[] shape = new int[rank];
    long elements = 1;
    for (int d = 0; d < rank; d++) {
      shape[d] = t.shape(d);
      if (shape[d] < 0) {
        throw new InvalidModelException(label + " has negative dimension " + shape[d] + " in shape "
            + Arrays.toString(Arrays.copyOf(shape, d + 1)));
      }
      elements *= shape[d];
      if (elements > Integer.MAX_VALUE) {
        throw new InvalidModelException(label + " has more than 2^31 elements");
      }
    }
    long buffer = t.buffer();
    if (buffer >= bufferCount) {
      throw new InvalidModelException(label + " points at buffer " + buffer + ", but the model has " + bufferCount
          + " buffers");
    }
    byte[] data = null;
    if (buffer != 0) {
      byte[] raw = bufferBytes(model, (int) buffer, label);
      if (raw.length > 0) {
        long expected = elements * type.elementBytes();
        if (raw.length != expected) {
          throw new InvalidModelException(label + " (" + type + " " + Arrays.toString(shape) + ") needs "
              + expected + " bytes of data, but buffer " + buffer + " holds " + raw.length);
        }
        data = raw;
      }
    }
    return new TfliteTensor(name, type, shape, data, readQuantization(t.quantization(), shape, label));
  }

  private TfliteQuantization readQuantization(QuantizationParameters q, int[] shape, String label) {
    if (q == null) {
      return null;
    }
    int scales = checkedLength(q.scaleLength(), 4, label + " quantization scale");
    int zeroPoints = checkedLength(q.zeroPointLength(), 8, label + " quantization zero_point");
    if (scales == 0 && zeroPoints == 0) {
      return null;
    }
    if (scales != zeroPoints) {
      throw new InvalidModelException(label + " has " + scales + " quantization scales but " + zeroPoints
          + " zero points; they must match");
    }
    float[] scale = new float[scales];
    long[] zeroPoint = new long[scales];
    for (int i = 0; i < scales; i++) {
      scale[i] = q.scale(i);
      zeroPoint[i] = q.zeroPoint(i);
    }
    int dim = q.quantizedDimension();
    if (scales > 1 && (dim < 0 || dim >= shape.length || shape[dim] != scales)) {
      throw new InvalidModelException(label + " has " + scales + " per-channel scales along dimension " + dim
          + ", but its shape is " + Arrays.toString(shape));
    }
    return new TfliteQuantization(scale, zeroPoint, dim);
  }

  private OperatorOptions readOptions(Operator op, String label) {
    int type = op.builtinOptionsType() & 0xFF;
    if (type == BuiltinOptions.NONE) {
      return null;
    }
    return switch (type) {
      case BuiltinOptions.Conv2DOptions -> {
        Conv2DOptions o = (Conv2DOptions) present(op.builtinOptions(new Conv2DOptions()), label);
        yield new OperatorOptions.ConvParams(padding(o.padding(), label), o.strideW(), o.strideH(),
            activation(o.fusedActivationFunction(), label), o.dilationWFactor(), o.dilationHFactor());
      }
      case BuiltinOptions.DepthwiseConv2DOptions -> {
        DepthwiseConv2DOptions o = (DepthwiseConv2DOptions)
            present(op.builtinOptions(new DepthwiseConv2DOptions()), label);
        yield new OperatorOptions.DepthwiseConvParams(padding(o.padding(), label), o.strideW(), o.strideH(),
            o.depthMultiplier(), activation(o.fusedActivationFunction(), label), o.dilationWFactor(),
            o.dilationHFactor());
      }
      case BuiltinOptions.FullyConnectedOptions -> {
        FullyConnectedOptions o = (FullyConnectedOptions)
            present(op.builtinOptions(new FullyConnectedOptions()), label);
        if (o.weightsFormat() != 0) {
          throw new InvalidModelException(label + " uses FullyConnected weights_format " + o.weightsFormat()
              + "; only DEFAULT (0) is supported");
        }
        yield new OperatorOptions.FullyConnectedParams(activation(o.fusedActivationFunction(), label), o.keepNumDims(),
            o.asymmetricQuantizeInputs());
      }
      case BuiltinOptions.Pool2DOptions -> {
        Pool2DOptions o = (Pool2DOptions) present(op.builtinOptions(new Pool2DOptions()), label);
        yield new OperatorOptions.PoolParams(padding(o.padding(), label), o.strideW(), o.strideH(), o.filterWidth(),
            o.filterHeight(), activation(o.fusedActivationFunction(), label));
      }
      case BuiltinOptions.AddOptions -> {
        AddOptions o = (AddOptions) present(op.builtinOptions(new AddOptions()), label);
        yield new OperatorOptions.AddParams(activation(o.fusedActivationFunction(), label));
      }
      case BuiltinOptions.ReshapeOptions -> {
        ReshapeOptions o = (ReshapeOptions) present(op.builtinOptions(new ReshapeOptions()), label);
        int rank = o.newShapeLength();
        if (rank > MAX_RESHAPE_RANK) {
          throw new InvalidModelException(label + " has a new_shape of rank " + rank + ", expected 0.."
              + MAX_RESHAPE_RANK);
        }
        yield new OperatorOptions.ReshapeParams(readInts(rank, o::newShape, label + " new_shape"));
      }
      case BuiltinOptions.SoftmaxOptions -> {
        SoftmaxOptions o = (SoftmaxOptions) present(op.builtinOptions(new SoftmaxOptions()), label);
        yield new OperatorOptions.SoftmaxParams(o.beta());
      }
      case BuiltinOptions.ReducerOptions -> {
        ReducerOptions o = (ReducerOptions) present(op.builtinOptions(new ReducerOptions()), label);
        yield new OperatorOptions.ReducerParams(o.keepDims());
      }
      case BuiltinOptions.SubOptions -> {
        SubOptions o = (SubOptions) present(op.builtinOptions(new SubOptions()), label);
        yield new OperatorOptions.SubParams(activation(o.fusedActivationFunction(), label), o.potScaleInt16());
      }
      case BuiltinOptions.MulOptions -> {
        MulOptions o = (MulOptions) present(op.builtinOptions(new MulOptions()), label);
        yield new OperatorOptions.MulParams(activation(o.fusedActivationFunction(), label));
      }
      case BuiltinOptions.StridedSliceOptions -> {
        StridedSliceOptions o = (StridedSliceOptions) present(op.builtinOptions(new StridedSliceOptions()), label);
        yield new OperatorOptions.StridedSliceParams(o.beginMask(), o.endMask(), o.ellipsisMask(), o.newAxisMask(),
            o.shrinkAxisMask(), o.offset());
      }
      case BuiltinOptions.TransposeConvOptions -> {
        TransposeConvOptions o = (TransposeConvOptions) present(op.builtinOptions(new TransposeConvOptions()), label);
        yield new OperatorOptions.TransposeConvParams(padding(o.padding(), label), o.strideW(), o.strideH(),
            activation(o.fusedActivationFunction(), label));
      }
      case BuiltinOptions.ConcatenationOptions -> {
        ConcatenationOptions o = (ConcatenationOptions) present(op.builtinOptions(new ConcatenationOptions()), label);
        yield new OperatorOptions.ConcatenationParams(o.axis(), activation(o.fusedActivationFunction(), label));
      }
      case BuiltinOptions.LeakyReluOptions -> {
        LeakyReluOptions o = (LeakyReluOptions) present(op.builtinOptions(new LeakyReluOptions()), label);
        yield new OperatorOptions.LeakyReluParams(o.alpha());
      }
      case BuiltinOptions.ResizeNearestNeighborOptions -> {
        ResizeNearestNeighborOptions o = (ResizeNearestNeighborOptions)
            present(op.builtinOptions(new ResizeNearestNeighborOptions()), label);
        yield new OperatorOptions.ResizeNearestNeighborParams(o.alignCorners(), o.halfPixelCenters());
      }
      // Other union members (e.g. the empty QuantizeOptions some converters write) carry nothing we use;
      // ModelCheck.verify reports an op whose required options are missing.
      default -> null;
    };
  }

  /** A union whose type is set but whose table offset is absent reads as null: a damaged file. */
  private static <T> T present(T options, String label) {
    if (options == null) {
      throw new InvalidModelException(label + " names a builtin_options type but has no options table");
    }
    return options;
  }

  private byte[] bufferBytes(Model model, int index, String label) {
    byte[] cached = buffers.get(index);
    if (cached == null) {
      cached = readBuffer(model, index, label);
      buffers.put(index, cached);
    }
    return cached;
  }

  private byte[] readBuffer(Model model, int index, String label) {
    Buffer buffer = model.buffers(index);
    int length = checkedLength(buffer.dataLength(), 1, label + " buffer " + index);
    if (length == 0) {
      if (buffer.offset() != 0 || buffer.size() != 0) {
        throw new InvalidModelException(label + ": buffer " + index + " stores its data outside the flatbuffer "
            + "(offset/size, models over 2 GB), which SparkQuant does not support");
      }
      return new byte[0];
    }
    ByteBuffer data = buffer.dataAsByteBuffer();
    byte[] out = new byte[length];
    data.get(out);
    return out;
  }

  private int checkedLength(int length, int elementBytes, String what) {
    if (length < 0 || (long) length * elementBytes > bytes.length) {
      throw new InvalidModelException("Corrupt TFLite flatbuffer: " + what + " claims " + length
          + " elements of " + elementBytes + " bytes in a file of " + bytes.length + " bytes");
    }
    return length;
  }

  private int[] readInts(int length, java.util.function.IntUnaryOperator element, String what) {
    int n = checkedLength(length, 4, what);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = element.applyAsInt(i);
    }
    return out;
  }

  private static void checkIndices(int[] indices, int tensorCount, boolean allowOmitted, String what) {
    for (int i = 0; i < indices.length; i++) {
      int t = indices[i];
      if (t == -1 && allowOmitted) {
        continue;
      }
      if (t < 0 || t >= tensorCount) {
        throw new InvalidModelException(what + " " + i + " is tensor index " + t + ", valid: 0.."
            + (tensorCount - 1) + (allowOmitted ? " or -1 (omitted)" : ""));
      }
    }
  }

  private static Padding padding(byte code, String label) {
    if (code < 0 || code >= Padding.values().length) {
      throw new InvalidModelException(label + " has padding code " + code + ", valid: 0 (SAME), 1 (VALID)");
    }
    return Padding.values()[code];
  }

  private static FusedActivation activation(byte code, String label) {
    if (code < 0 || code >= FusedActivation.values().length) {
      throw new InvalidModelException(label + " has fused activation code " + code + ", valid: 0.."
          + (FusedActivation.values().length - 1) + " " + Arrays.toString(FusedActivation.values()));
    }
    return FusedActivation.values()[code];
  }

  private static String printable(String s) {
    StringBuilder sb = new StringBuilder();
    for (char c : s.toCharArray()) {
      sb.append(c >= 32 && c < 127 ? String.valueOf(c) : String.format("\\x%02x", (int) c));
    }
    return sb.toString();
  }
}
