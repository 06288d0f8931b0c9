package io.sparkquant.ops.tflite;

import com.google.flatbuffers.FlatBufferBuilder;
import io.sparkquant.ops.tflite.schema.AddOptions;
import io.sparkquant.ops.tflite.schema.Buffer;
import io.sparkquant.ops.tflite.schema.BuiltinOperator;
import io.sparkquant.ops.tflite.schema.BuiltinOptions;
import io.sparkquant.ops.tflite.schema.ConcatenationOptions;
import io.sparkquant.ops.tflite.schema.Conv2DOptions;
import io.sparkquant.ops.tflite.schema.DepthwiseConv2DOptions;
import io.sparkquant.ops.tflite.schema.FullyConnectedOptions;
import io.sparkquant.ops.tflite.schema.LeakyReluOptions;
import io.sparkquant.ops.tflite.schema.Metadata;
import io.sparkquant.ops.tflite.schema.Model;
import io.sparkquant.ops.tflite.schema.MulOptions;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes the TFLite flatbuffer format (schema.fbs, classes generated into {@code io.sparkquant.ops.tflite.schema})
 * for single-subgraph {@link TfliteModel}s; {@link TfliteReader} reads it back.
 *
 * <p>Layout written, as TFLite's converter does: file identifier "TFL3", {@code Model.version} 3, buffer 0
 * empty (the sentinel every activation tensor points at), then one buffer per constant tensor in tensor
 * order, then one per metadata entry; operator codes deduplicated by (code, version) in order of first
 * use, each with both {@code builtin_code} and {@code deprecated_builtin_code = min(code, 127)}. The output
 * is a pure function of the model, so {@code write(read(write(m)))} equals {@code write(m)} byte for byte.
 */
public final class TfliteWriter {

  /** deprecated_builtin_code of every op whose code does not fit in the old byte field. */
  static final int PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

  private TfliteWriter() {}

  /**
   * Serializes a model. Throws {@link IllegalArgumentException} listing the structural problems (see
   * {@link ModelCheck#structuralProblems}) if it cannot be serialized faithfully.
   */
  public static byte[] write(TfliteModel model) {
    List<String> problems = ModelCheck.structuralProblems(model);
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
    if (options instanceof OperatorOptions.ConvParams o) {
      return new int[] {BuiltinOptions.Conv2DOptions, Conv2DOptions.createConv2DOptions(b, (byte) o.padding().ordinal(),
          o.strideW(), o.strideH(), (byte) o.fusedActivation().ordinal(), o.dilationW(), o.dilationH())};
    }
    if (options instanceof OperatorOptions.DepthwiseConvParams o) {
      return new int[] {BuiltinOptions.DepthwiseConv2DOptions, DepthwiseConv2DOptions.createDepthwiseConv2DOptions(b,
          (byte) o.padding().ordinal(), o.strideW(), o.strideH(), o.depthMultiplier(),
          (byte) o.fusedActivation().ordinal(), o.dilationW(), o.dilationH())};
    }
    if (options instanceof OperatorOptions.FullyConnectedParams o) {
      return new int[] {BuiltinOptions.FullyConnectedOptions, FullyConnectedOptions.createFullyConnectedOptions(b,
          (byte) o.fusedActivation().ordinal(), (byte) 0, o.keepNumDims(), o.asymmetricQuantizeInputs())};
    }
    if (options instanceof OperatorOptions.PoolParams o) {
      return new int[] {BuiltinOptions.Pool2DOptions, Pool2DOptions.createPool2DOptions(b, (byte) o.padding().ordinal(),
          o.strideW(), o.strideH(), o.filterWidth(), o.filterHeight(), (byte) o.fusedActivation().ordinal())};
    }
    if (options instanceof OperatorOptions.AddParams o) {
      AddOptions.startAddOptions(b);
      AddOptions.addFusedActivationFunction(b, (byte) o.fusedActivation().ordinal());
      return new int[] {BuiltinOptions.AddOptions, AddOptions.endAddOptions(b)};
    }
    if (options instanceof OperatorOptions.ReshapeParams o) {
      int shape = ReshapeOptions.createNewShapeVector(b, o.newShape());
      return new int[] {BuiltinOptions.ReshapeOptions, ReshapeOptions.createReshapeOptions(b, shape)};
    }
    if (options instanceof OperatorOptions.SoftmaxParams o) {
      return new int[] {BuiltinOptions.SoftmaxOptions, SoftmaxOptions.createSoftmaxOptions(b, o.beta())};
    }
    if (options instanceof OperatorOptions.ReducerParams o) {
      return new int[] {BuiltinOptions.ReducerOptions, ReducerOptions.createReducerOptions(b, o.keepDims())};
    }
    if (options instanceof OperatorOptions.SubParams o) {
      return new int[] {BuiltinOptions.SubOptions, SubOptions.createSubOptions(b,
          (byte) o.fusedActivation().ordinal(), o.potScaleInt16())};
    }
    if (options instanceof OperatorOptions.MulParams o) {
      return new int[] {BuiltinOptions.MulOptions, MulOptions.createMulOptions(b,
          (byte) o.fusedActivation().ordinal())};
    }
    if (options instanceof OperatorOptions.StridedSliceParams o) {
      return new int[] {BuiltinOptions.StridedSliceOptions, StridedSliceOptions.createStridedSliceOptions(b,
          o.beginMask(), o.endMask(), o.ellipsisMask(), o.newAxisMask(), o.shrinkAxisMask(), o.offset())};
    }
    if (options instanceof OperatorOptions.TransposeConvParams o) {
      return new int[] {BuiltinOptions.TransposeConvOptions, TransposeConvOptions.createTransposeConvOptions(b,
          (byte) o.padding().ordinal(), o.strideW(), o.strideH(), (byte) o.fusedActivation().ordinal())};
    }
    if (options instanceof OperatorOptions.ConcatenationParams o) {
      return new int[] {BuiltinOptions.ConcatenationOptions, ConcatenationOptions.createConcatenationOptions(b,
          o.axis(), (byte) o.fusedActivation().ordinal())};
    }
    if (options instanceof OperatorOptions.LeakyReluParams o) {
      return new int[] {BuiltinOptions.LeakyReluOptions, LeakyReluOptions.createLeakyReluOptions(b, o.alpha())};
    }
    if (options instanceof OperatorOptions.ResizeNearestNeighborParams o) {
      return new int[] {BuiltinOptions.ResizeNearestNeighborOptions,
          ResizeNearestNeighborOptions.createResizeNearestNeighborOptions(b, o.alignCorners(), o.halfPixelCenters())};
    }
    throw new IllegalArgumentException("No builtin options mapping for " + options.getClass().getSimpleName());
  }
}
