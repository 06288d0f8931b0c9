package io.sparkquant.ops.tflite;

import com.google.flatbuffers.FlatBufferBuilder;
import io.sparkquant.ops.tflite.OperatorOptions.Activation;
import io.sparkquant.ops.tflite.OperatorOptions.Padding;
import io.sparkquant.ops.tflite.schema.AddOptions;
import io.sparkquant.ops.tflite.schema.Buffer;
import io.sparkquant.ops.tflite.schema.BuiltinOperator;
import io.sparkquant.ops.tflite.schema.BuiltinOptions;
import io.sparkquant.ops.tflite.schema.Conv2DOptions;
import io.sparkquant.ops.tflite.schema.DepthwiseConv2DOptions;
import io.sparkquant.ops.tflite.schema.FullyConnectedOptions;
import io.sparkquant.ops.tflite.schema.Metadata;
import io.sparkquant.ops.tflite.schema.Model;
import io.sparkquant.ops.tflite.schema.Operator;
import io.sparkquant.ops.tflite.schema.OperatorCode;
import io.sparkquant.ops.tflite.schema.Pool2DOptions;
import io.sparkquant.ops.tflite.schema.QuantizationParameters;
import io.sparkquant.ops.tflite.schema.ReducerOptions;
import io.sparkquant.ops.tflite.schema.ReshapeOptions;
import io.sparkquant.ops.tflite.schema.SoftmaxOptions;
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
 * Writes and reads the TFLite flatbuffer format (schema.fbs, classes generated into
 * {@code io.sparkquant.ops.tflite.schema}) for single-subgraph {@link TfliteModel}s.
 *
 * <p>Layout written, as TFLite's converter does: file identifier "TFL3", {@code Model.version} 3, buffer 0
 * empty (the sentinel every activation tensor points at), then one buffer per constant tensor in tensor
 * order, then one per metadata entry; operator codes deduplicated by (code, version) in order of first
 * use, each with both {@code builtin_code} and {@code deprecated_builtin_code = min(code, 127)}. The output
 * is a pure function of the model, so {@code write(read(write(m)))} equals {@code write(m)} byte for byte.
 *
 * <p>Reading never trusts the file: every offset is bounds-checked by the buffer, vector lengths are checked
 * against the file size before anything is allocated, and every problem surfaces as an
 * {@link InvalidModelException} naming the tensor or operator.
 */
public final class TfliteFlatbuffer {

  public static final String FILE_IDENTIFIER = "TFL3";

  /** deprecated_builtin_code of every op whose code does not fit in the old byte field. */
  static final int PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

  /** Highest tensor rank the reader accepts (TFLite kernels use at most 6). */
  private static final int MAX_RANK = 16;

  private TfliteFlatbuffer() {}

  // ------------------------------------------------------------------------------------------------ write

  /**
   * Serializes a model. Throws {@link IllegalArgumentException} listing the structural problems (see
   * {@link #structuralProblems}) if it cannot be serialized faithfully.
   */
  public static byte[] write(TfliteModel model) {
    List<String> problems = structuralProblems(model);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("Cannot write TFLite model: " + String.join("; ", problems));
    }
    FlatBufferBuilder b = new FlatBufferBuilder(1024 + estimateBytes(model));

    // Buffers: 0 empty, then constants, then metadata.
    List<Integer> bufferOffsets = new ArrayList<>();
    Buffer.startBuffer(b);
    bufferOffsets.add(Buffer.endBuffer(b));
    int[] tensorBuffer = new int[model.tensors().size()];
    for (int t = 0; t < model.tensors().size(); t++) {
      TfliteTensor tensor = model.tensors().get(t);
      if (tensor.isConstant()) {
        tensorBuffer[t] = bufferOffsets.size();
        bufferOffsets.add(writeBuffer(b, tensor.data()));
      }
    }
    List<Integer> metadataOffsets = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : model.metadata().entrySet()) {
      int bufferIndex = bufferOffsets.size();
      bufferOffsets.add(writeBuffer(b, e.getValue()));
      int name = b.createString(e.getKey());
      metadataOffsets.add(Metadata.createMetadata(b, name, bufferIndex));
    }

    // Tensors.
    int[] tensorOffsets = new int[model.tensors().size()];
    for (int t = 0; t < tensorOffsets.length; t++) {
      TfliteTensor tensor = model.tensors().get(t);
      int shape = Tensor.createShapeVector(b, tensor.shape());
      int name = tensor.name() == null ? 0 : b.createString(tensor.name());
      int quant = tensor.quantization() == null ? 0 : writeQuantization(b, tensor.quantization());
      Tensor.startTensor(b);
      Tensor.addShape(b, shape);
      Tensor.addType(b, (byte) tensor.type().code());
      Tensor.addBuffer(b, tensorBuffer[t]);
      if (name != 0) {
        Tensor.addName(b, name);
      }
      if (quant != 0) {
        Tensor.addQuantization(b, quant);
      }
      tensorOffsets[t] = Tensor.endTensor(b);
    }

    // Operator codes, deduplicated by (code, version) in order of first use.
    List<long[]> codes = new ArrayList<>();
    List<String> customNames = new ArrayList<>();
    int[] opcodeIndex = new int[model.operators().size()];
    for (int i = 0; i < opcodeIndex.length; i++) {
      TfliteOperator op = model.operators().get(i);
      int found = -1;
      for (int c = 0; c < codes.size(); c++) {
        boolean sameCustom = op.builtinCode() != BuiltinOperator.CUSTOM || customNames.get(c).equals(op.opName());
        if (codes.get(c)[0] == op.builtinCode() && codes.get(c)[1] == op.version() && sameCustom) {
          found = c;
          break;
        }
      }
      if (found < 0) {
        found = codes.size();
        codes.add(new long[] {op.builtinCode(), op.version()});
        customNames.add(op.opName());
      }
      opcodeIndex[i] = found;
    }
    int[] codeOffsets = new int[codes.size()];
    for (int c = 0; c < codes.size(); c++) {
      int code = (int) codes.get(c)[0];
      int custom = code == BuiltinOperator.CUSTOM ? b.createString(customNames.get(c)) : 0;
      OperatorCode.startOperatorCode(b);
      OperatorCode.addDeprecatedBuiltinCode(b, (byte) Math.min(code, PLACEHOLDER_FOR_GREATER_OP_CODES));
      if (custom != 0) {
        OperatorCode.addCustomCode(b, custom);
      }
      OperatorCode.addVersion(b, (int) codes.get(c)[1]);
      OperatorCode.addBuiltinCode(b, code);
      codeOffsets[c] = OperatorCode.endOperatorCode(b);
    }

    // Operators.
    int[] operatorOffsets = new int[model.operators().size()];
    for (int i = 0; i < operatorOffsets.length; i++) {
      TfliteOperator op = model.operators().get(i);
      int inputs = Operator.createInputsVector(b, op.inputs());
      int outputs = Operator.createOutputsVector(b, op.outputs());
      int[] options = writeOptions(b, op.options());
      Operator.startOperator(b);
      Operator.addOpcodeIndex(b, opcodeIndex[i]);
      Operator.addInputs(b, inputs);
      Operator.addOutputs(b, outputs);
      if (options != null) {
        Operator.addBuiltinOptionsType(b, (byte) options[0]);
        Operator.addBuiltinOptions(b, options[1]);
      }
      operatorOffsets[i] = Operator.endOperator(b);
    }

    int tensors = SubGraph.createTensorsVector(b, tensorOffsets);
    int sgInputs = SubGraph.createInputsVector(b, model.inputs());
    int sgOutputs = SubGraph.createOutputsVector(b, model.outputs());
    int operators = SubGraph.createOperatorsVector(b, operatorOffsets);
    int sgName = b.createString("main");
    int subgraph = SubGraph.createSubGraph(b, tensors, sgInputs, sgOutputs, operators, sgName);

    int opCodes = Model.createOperatorCodesVector(b, codeOffsets);
    int subgraphs = Model.createSubgraphsVector(b, new int[] {subgraph});
    int description = model.description() == null ? 0 : b.createString(model.description());
    int buffers = Model.createBuffersVector(b, bufferOffsets.stream().mapToInt(Integer::intValue).toArray());
    int metadata = metadataOffsets.isEmpty() ? 0
        : Model.createMetadataVector(b, metadataOffsets.stream().mapToInt(Integer::intValue).toArray());
    Model.startModel(b);
    Model.addVersion(b, TfliteModel.SCHEMA_VERSION);
    Model.addOperatorCodes(b, opCodes);
    Model.addSubgraphs(b, subgraphs);
    if (description != 0) {
      Model.addDescription(b, description);
    }
    Model.addBuffers(b, buffers);
    if (metadata != 0) {
      Model.addMetadata(b, metadata);
    }
    Model.finishModelBuffer(b, Model.endModel(b));
    return b.sizedByteArray();
  }

  private static int estimateBytes(TfliteModel model) {
    long n = 0;
    for (TfliteTensor t : model.tensors()) {
      n += t.isConstant() ? t.data().length + 16 : 0;
    }
    for (byte[] m : model.metadata().values()) {
      n += m.length + 16;
    }
    return (int) Math.min(n, Integer.MAX_VALUE - 4096);
  }

  /** A Buffer table; schema.fbs asks for 16-byte aligned data, which the generated helper does not do. */
  private static int writeBuffer(FlatBufferBuilder b, byte[] data) {
    b.startVector(1, data.length, 16);
    for (int i = data.length - 1; i >= 0; i--) {
      b.putByte(data[i]);
    }
    int vector = b.endVector();
    Buffer.startBuffer(b);
    Buffer.addData(b, vector);
    return Buffer.endBuffer(b);
  }

  private static int writeQuantization(FlatBufferBuilder b, TfliteQuantization q) {
    int scale = QuantizationParameters.createScaleVector(b, q.scale());
    int zeroPoint = QuantizationParameters.createZeroPointVector(b, q.zeroPoint());
    QuantizationParameters.startQuantizationParameters(b);
    QuantizationParameters.addScale(b, scale);
    QuantizationParameters.addZeroPoint(b, zeroPoint);
    QuantizationParameters.addQuantizedDimension(b, q.quantizedDimension());
    return QuantizationParameters.endQuantizationParameters(b);
  }

  /** Returns {union type, table offset}, or null for operators without builtin options. */
  private static int[] writeOptions(FlatBufferBuilder b, OperatorOptions options) {
    if (options == null) {
      return null;
    }
    if (options instanceof OperatorOptions.Conv2D o) {
      return new int[] {BuiltinOptions.Conv2DOptions, Conv2DOptions.createConv2DOptions(b, (byte) o.padding().ordinal(),
          o.strideW(), o.strideH(), (byte) o.fusedActivation().ordinal(), o.dilationW(), o.dilationH())};
    }
    if (options instanceof OperatorOptions.DepthwiseConv2D o) {
      return new int[] {BuiltinOptions.DepthwiseConv2DOptions, DepthwiseConv2DOptions.createDepthwiseConv2DOptions(b,
          (byte) o.padding().ordinal(), o.strideW(), o.strideH(), o.depthMultiplier(),
          (byte) o.fusedActivation().ordinal(), o.dilationW(), o.dilationH())};
    }
    if (options instanceof OperatorOptions.FullyConnected o) {
      return new int[] {BuiltinOptions.FullyConnectedOptions, FullyConnectedOptions.createFullyConnectedOptions(b,
          (byte) o.fusedActivation().ordinal(), (byte) 0, o.keepNumDims(), o.asymmetricQuantizeInputs())};
    }
    if (options instanceof OperatorOptions.Pool2D o) {
      return new int[] {BuiltinOptions.Pool2DOptions, Pool2DOptions.createPool2DOptions(b, (byte) o.padding().ordinal(),
          o.strideW(), o.strideH(), o.filterWidth(), o.filterHeight(), (byte) o.fusedActivation().ordinal())};
    }
    if (options instanceof OperatorOptions.Add o) {
      AddOptions.startAddOptions(b);
      AddOptions.addFusedActivationFunction(b, (byte) o.fusedActivation().ordinal());
      return new int[] {BuiltinOptions.AddOptions, AddOptions.endAddOptions(b)};
    }
    if (options instanceof OperatorOptions.Reshape o) {
      int shape = ReshapeOptions.createNewShapeVector(b, o.newShape());
      return new int[] {BuiltinOptions.ReshapeOptions, ReshapeOptions.createReshapeOptions(b, shape)};
    }
    if (options instanceof OperatorOptions.Softmax o) {
      return new int[] {BuiltinOptions.SoftmaxOptions, SoftmaxOptions.createSoftmaxOptions(b, o.beta())};
    }
    if (options instanceof OperatorOptions.Reducer o) {
      return new int[] {BuiltinOptions.ReducerOptions, ReducerOptions.createReducerOptions(b, o.keepDims())};
    }
    throw new IllegalArgumentException("No builtin options mapping for " + options.getClass().getSimpleName());
  }

  /**
   * The schema's name for a builtin code (BuiltinOperator.name), or {@code BUILTIN_<code>} for codes newer
   * than the generated schema, so operators from newer converters keep a usable name.
   */
  public static String builtinName(int code) {
    return code >= 0 && code < BuiltinOperator.names.length ? BuiltinOperator.name(code) : "BUILTIN_" + code;
  }

  // ------------------------------------------------------------------------------------------------- read

  /**
   * Parses a .tflite file. Throws {@link InvalidModelException} for anything that is not a well-formed
   * single-subgraph TFLite model with tensor types SparkQuant knows; operators outside {@link BuiltinOp}
   * are kept (with {@code op == null}, their schema name, and no options).
   */
  public static TfliteModel read(byte[] bytes) {
    Reader reader = new Reader(bytes);
    try {
      return reader.read();
    } catch (IndexOutOfBoundsException | BufferUnderflowException | BufferOverflowException
        | IllegalArgumentException | NegativeArraySizeException e) {
      throw new InvalidModelException("Corrupt TFLite flatbuffer (" + bytes.length + " bytes): offset or length "
          + "outside the file while reading " + reader.where + ": " + e, e);
    }
  }

  private static final class Reader {
    private final byte[] bytes;
    private String where = "the model header";

    Reader(byte[] bytes) {
      this.bytes = bytes;
    }

    TfliteModel read() {
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
          Conv2DOptions o = (Conv2DOptions) op.builtinOptions(new Conv2DOptions());
          yield new OperatorOptions.Conv2D(padding(o.padding(), label), o.strideW(), o.strideH(),
              activation(o.fusedActivationFunction(), label), o.dilationWFactor(), o.dilationHFactor());
        }
        case BuiltinOptions.DepthwiseConv2DOptions -> {
          DepthwiseConv2DOptions o = (DepthwiseConv2DOptions) op.builtinOptions(new DepthwiseConv2DOptions());
          yield new OperatorOptions.DepthwiseConv2D(padding(o.padding(), label), o.strideW(), o.strideH(),
              o.depthMultiplier(), activation(o.fusedActivationFunction(), label), o.dilationWFactor(),
              o.dilationHFactor());
        }
        case BuiltinOptions.FullyConnectedOptions -> {
          FullyConnectedOptions o = (FullyConnectedOptions) op.builtinOptions(new FullyConnectedOptions());
          if (o.weightsFormat() != 0) {
            throw new InvalidModelException(label + " uses FullyConnected weights_format " + o.weightsFormat()
                + "; only DEFAULT (0) is supported");
          }
          yield new OperatorOptions.FullyConnected(activation(o.fusedActivationFunction(), label), o.keepNumDims(),
              o.asymmetricQuantizeInputs());
        }
        case BuiltinOptions.Pool2DOptions -> {
          Pool2DOptions o = (Pool2DOptions) op.builtinOptions(new Pool2DOptions());
          yield new OperatorOptions.Pool2D(padding(o.padding(), label), o.strideW(), o.strideH(), o.filterWidth(),
              o.filterHeight(), activation(o.fusedActivationFunction(), label));
        }
        case BuiltinOptions.AddOptions -> {
          AddOptions o = (AddOptions) op.builtinOptions(new AddOptions());
          yield new OperatorOptions.Add(activation(o.fusedActivationFunction(), label));
        }
        case BuiltinOptions.ReshapeOptions -> {
          ReshapeOptions o = (ReshapeOptions) op.builtinOptions(new ReshapeOptions());
          int rank = o.newShapeLength();
          if (rank > MAX_RANK) {
            throw new InvalidModelException(label + " has a new_shape of rank " + rank + ", expected 0.." + MAX_RANK);
          }
          yield new OperatorOptions.Reshape(readInts(rank, o::newShape, label + " new_shape"));
        }
        case BuiltinOptions.SoftmaxOptions -> {
          SoftmaxOptions o = (SoftmaxOptions) op.builtinOptions(new SoftmaxOptions());
          yield new OperatorOptions.Softmax(o.beta());
        }
        case BuiltinOptions.ReducerOptions -> {
          ReducerOptions o = (ReducerOptions) op.builtinOptions(new ReducerOptions());
          yield new OperatorOptions.Reducer(o.keepDims());
        }
        // Other union members (e.g. the empty QuantizeOptions some converters write) carry nothing we use;
        // verify() reports an op whose required options are missing.
        default -> null;
      };
    }

    private byte[] bufferBytes(Model model, int index, String label) {
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

    private static Activation activation(byte code, String label) {
      if (code < 0 || code >= Activation.values().length) {
        throw new InvalidModelException(label + " has fused activation code " + code + ", valid: 0.."
            + (Activation.values().length - 1) + " " + Arrays.toString(Activation.values()));
      }
      return Activation.values()[code];
    }

    private static String printable(String s) {
      StringBuilder sb = new StringBuilder();
      for (char c : s.toCharArray()) {
        sb.append(c >= 32 && c < 127 ? String.valueOf(c) : String.format("\\x%02x", (int) c));
      }
      return sb.toString();
    }
  }

  // ----------------------------------------------------------------------------------------------- verify

  /**
   * Problems that make a model impossible to serialize or to execute at all: indices out of range, constant
   * data that does not match shape and type, malformed quantization. Empty when the model is well formed.
   */
  public static List<String> structuralProblems(TfliteModel model) {
    List<String> problems = new ArrayList<>();
    int n = model.tensors().size();
    for (int t = 0; t < n; t++) {
      TfliteTensor tensor = model.tensors().get(t);
      String label = tensorLabel(model, t);
      if (tensor.type() == null || tensor.shape() == null) {
        problems.add(label + ": type and shape are required");
        continue;
      }
      long elements = 1;
      for (int d : tensor.shape()) {
        if (d < 0) {
          problems.add(label + ": negative dimension in shape " + Arrays.toString(tensor.shape()));
        }
        elements *= Math.max(d, 0);
      }
      if (tensor.isConstant() && tensor.data().length != elements * tensor.type().elementBytes()) {
        problems.add(label + ": " + tensor.type() + " " + Arrays.toString(tensor.shape()) + " needs "
            + elements * tensor.type().elementBytes() + " bytes of data, got " + tensor.data().length);
      }
      TfliteQuantization q = tensor.quantization();
      if (q != null && q.isPerChannel()) {
        int dim = q.quantizedDimension();
        if (dim < 0 || dim >= tensor.shape().length || tensor.shape()[dim] != q.scale().length) {
          problems.add(label + ": " + q.scale().length + " per-channel scales along dimension " + dim
              + " do not match shape " + Arrays.toString(tensor.shape()));
        }
      }
    }
    for (int i = 0; i < model.operators().size(); i++) {
      TfliteOperator op = model.operators().get(i);
      String label = "operator " + i + " (" + op.opName() + ")";
      if (op.version() < 1) {
        problems.add(label + ": version " + op.version() + ", must be >= 1");
      }
      if (op.builtinCode() < 0) {
        problems.add(label + ": negative builtin code " + op.builtinCode());
      }
      if (op.op() != null && op.op().code() != op.builtinCode()) {
        problems.add(label + ": op " + op.op() + " has code " + op.op().code() + " but builtinCode is "
            + op.builtinCode());
      }
      for (int k = 0; k < op.inputs().length; k++) {
        int t = op.inputs()[k];
        if (t != -1 && (t < 0 || t >= n)) {
          problems.add(label + ": input " + k + " is tensor " + t + ", valid 0.." + (n - 1) + " or -1");
        }
      }
      for (int k = 0; k < op.outputs().length; k++) {
        int t = op.outputs()[k];
        if (t < 0 || t >= n) {
          problems.add(label + ": output " + k + " is tensor " + t + ", valid 0.." + (n - 1));
        }
      }
    }
    for (int t : model.inputs()) {
      if (t < 0 || t >= n) {
        problems.add("model input tensor " + t + " out of range 0.." + (n - 1));
      }
    }
    for (int t : model.outputs()) {
      if (t < 0 || t >= n) {
        problems.add("model output tensor " + t + " out of range 0.." + (n - 1));
      }
    }
    for (Map.Entry<String, byte[]> e : model.metadata().entrySet()) {
      if (e.getKey() == null || e.getValue() == null) {
        problems.add("metadata entry '" + e.getKey() + "' has a null name or value");
      }
    }
    return problems;
  }

  /**
   * Full check of a model before it is written or run: {@link #structuralProblems} plus dataflow (every
   * activation produced once, before use), options matching each op, quantization parameters valid for the
   * tensor type, and operator versions TFLite 2.6.2 accepts. Empty when nothing is wrong.
   */
  public static List<String> verify(TfliteModel model) {
    List<String> problems = structuralProblems(model);
    if (!problems.isEmpty()) {
      return problems;
    }
    int n = model.tensors().size();
    if (model.inputs().length == 0) {
      problems.add("model has no inputs");
    }
    if (model.outputs().length == 0) {
      problems.add("model has no outputs");
    }
    boolean[] available = new boolean[n];
    for (int t : model.inputs()) {
      available[t] = true;
      if (model.tensors().get(t).isConstant()) {
        problems.add("model input " + tensorLabel(model, t) + " is a constant");
      }
    }
    for (int t = 0; t < n; t++) {
      if (model.tensors().get(t).isConstant()) {
        available[t] = true;
      }
    }
    int[] producer = new int[n];
    Arrays.fill(producer, -1);
    for (int i = 0; i < model.operators().size(); i++) {
      TfliteOperator op = model.operators().get(i);
      String label = "operator " + i + " (" + op.opName() + ")";
      if (op.op() == null) {
        problems.add(label + ": not supported by SparkQuant (builtin code " + op.builtinCode() + ")");
      } else {
        checkOptions(op, label, problems);
        int max = op.op().maxVersionTflite262();
        if (op.version() > max) {
          problems.add(label + ": version " + op.version() + " is above " + max
              + ", the highest TFLite 2.6.2 accepts");
        }
      }
      for (int k = 0; k < op.inputs().length; k++) {
        int t = op.inputs()[k];
        if (t >= 0 && !available[t]) {
          problems.add(label + ": input " + k + " " + tensorLabel(model, t)
              + " is neither a model input, a constant, nor produced by an earlier operator");
        }
      }
      for (int t : op.outputs()) {
        if (model.tensors().get(t).isConstant() || Arrays.stream(model.inputs()).anyMatch(x -> x == t)) {
          problems.add(label + ": writes " + tensorLabel(model, t) + ", which is a constant or model input");
        } else if (producer[t] >= 0) {
          problems.add(label + ": writes " + tensorLabel(model, t) + ", already written by operator " + producer[t]);
        }
        producer[t] = i;
        available[t] = true;
      }
    }
    for (int t : model.outputs()) {
      if (!available[t]) {
        problems.add("model output " + tensorLabel(model, t) + " is never produced");
      }
    }
    for (int t = 0; t < n; t++) {
      checkQuantization(model, t, problems);
    }
    return problems;
  }

  private static void checkOptions(TfliteOperator op, String label, List<String> problems) {
    Class<? extends OperatorOptions> expected = switch (op.op()) {
      case CONV_2D -> OperatorOptions.Conv2D.class;
      case DEPTHWISE_CONV_2D -> OperatorOptions.DepthwiseConv2D.class;
      case FULLY_CONNECTED -> OperatorOptions.FullyConnected.class;
      case AVERAGE_POOL_2D, MAX_POOL_2D -> OperatorOptions.Pool2D.class;
      case ADD -> OperatorOptions.Add.class;
      case RESHAPE -> OperatorOptions.Reshape.class;
      case SOFTMAX -> OperatorOptions.Softmax.class;
      case MEAN -> OperatorOptions.Reducer.class;
      case QUANTIZE, DEQUANTIZE, LOGISTIC, TANH, RELU, RELU6 -> null;
    };
    OperatorOptions options = op.options();
    if (expected == null && options != null) {
      problems.add(label + ": takes no builtin options, has " + options.getClass().getSimpleName());
    } else if (expected != null && options == null && op.op() != BuiltinOp.RESHAPE) {
      // RESHAPE may take its shape from a second input instead.
      problems.add(label + ": missing " + expected.getSimpleName() + " options");
    } else if (expected != null && options != null && !expected.isInstance(options)) {
      problems.add(label + ": has " + options.getClass().getSimpleName() + " options, expected "
          + expected.getSimpleName());
    }
  }

  private static void checkQuantization(TfliteModel model, int t, List<String> problems) {
    TfliteTensor tensor = model.tensors().get(t);
    TfliteQuantization q = tensor.quantization();
    if (q == null) {
      return;
    }
    String label = tensorLabel(model, t);
    long zpMin;
    long zpMax;
    switch (tensor.type()) {
      case INT8 -> { zpMin = -128; zpMax = 127; }
      case UINT8 -> { zpMin = 0; zpMax = 255; }
      case INT16 -> { zpMin = 0; zpMax = 0; } // TFLite's int16 activations are symmetric.
      case INT32, INT64 -> { zpMin = 0; zpMax = 0; } // Biases: zero point 0.
      default -> {
        return; // Float tensors may carry (ignored) min/max style parameters.
      }
    }
    for (int c = 0; c < q.scale().length; c++) {
      float s = q.scale()[c];
      if (!(s > 0) || Float.isInfinite(s)) {
        problems.add(label + ": scale[" + c + "] = " + s + ", must be positive and finite");
      }
      long zp = q.zeroPoint()[c];
      if (zp < zpMin || zp > zpMax) {
        problems.add(label + ": zero point[" + c + "] = " + zp + " outside " + zpMin + ".." + zpMax + " for "
            + tensor.type());
      }
    }
  }

  private static String tensorLabel(TfliteModel model, int t) {
    String name = t >= 0 && t < model.tensors().size() ? model.tensors().get(t).name() : null;
    return "tensor " + t + (name == null ? "" : " '" + name + "'");
  }
}
