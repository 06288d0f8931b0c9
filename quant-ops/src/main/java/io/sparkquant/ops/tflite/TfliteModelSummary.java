package io.sparkquant.ops.tflite;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code sparkquant inspect} shows about a .tflite file: operators with versions, tensors with type,
 * shape and quantization, bytes per kind of content, metadata, and the {@link ModelCheck#verify}
 * result. A plain immutable value (records) so the CLI can print it as text or JSON.
 *
 * <p>Byte kinds: {@code weights.<type>} are the filter inputs (input 1) of CONV_2D, DEPTHWISE_CONV_2D and
 * FULLY_CONNECTED, or the constant a DEQUANTIZE turns into one; {@code biases.<type>} their input 2; {@code constants.other} every other constant (shapes,
 * axes); {@code metadata} the metadata buffers; {@code file} the whole file. Type names are lower case
 * ({@code weights.int8}, {@code weights.float32}, {@code weights.float16}, {@code biases.int32}).
 */
public record TfliteModelSummary(long fileBytes, String description, List<OperatorInfo> operators,
    List<TensorInfo> tensors, Map<String, Long> bytesByKind, String minRuntimeVersion,
    List<MetadataInfo> metadata, List<String> problems) {

  /** Name of TFLite's metadata entry holding the minimum runtime version (a NUL-padded string). */
  public static final String MIN_RUNTIME_VERSION = "min_runtime_version";

  public record OperatorInfo(int index, String name, int version, int maxVersionTflite262, int[] inputs,
      int[] outputs, String options) {}

  /**
   * One tensor. {@code quantization} is "none", "per-tensor" or "per-channel"; per-tensor fills
   * {@code scale}/{@code zeroPoint}; per-channel fills {@code channels}, {@code scaleMin}, {@code scaleMax},
   * {@code quantizedDimension} (its zero points are in {@code zeroPointMin..zeroPointMax}).
   */
  public record TensorInfo(int index, String name, String type, int[] shape, boolean constant, long dataBytes,
      String quantization, Float scale, Long zeroPoint, Integer channels, Float scaleMin, Float scaleMax,
      Long zeroPointMin, Long zeroPointMax, Integer quantizedDimension) {}

  /** One metadata entry: {@code text} is the UTF-8 content when it is printable text, else null. */
  public record MetadataInfo(String name, long bytes, String text) {}

  /** The summary of {@code model}; {@code ops} gives the registered versions and the check's op support. */
  public static TfliteModelSummary of(TfliteModel model, long fileBytes, OpResolver ops) {
    List<OperatorInfo> operators = new ArrayList<>();
    Map<Integer, String> role = new LinkedHashMap<>();
    for (int i = 0; i < model.operators().size(); i++) {
      TfliteOperator op = model.operators().get(i);
      OpResolver.Registration registration = op.op() == null ? null : ops.find(op.op());
      operators.add(new OperatorInfo(i, op.opName(), op.version(), registration == null ? 0 : registration.maxVersion(),
          op.inputs().clone(), op.outputs().clone(), op.options() == null ? null : op.options().toString()));
      if (op.op() == BuiltinOp.CONV_2D || op.op() == BuiltinOp.DEPTHWISE_CONV_2D
          || op.op() == BuiltinOp.FULLY_CONNECTED) {
        if (op.inputs().length > 1 && op.inputs()[1] >= 0) {
          role.putIfAbsent(op.inputs()[1], "weights");
        }
        if (op.inputs().length > 2 && op.inputs()[2] >= 0) {
          role.putIfAbsent(op.inputs()[2], "biases");
        }
      }
    }
    // float16 / dynamic-range style models feed weights through DEQUANTIZE: the constant behind it counts.
    for (TfliteOperator op : model.operators()) {
      if (op.op() == BuiltinOp.DEQUANTIZE && op.inputs().length == 1 && op.outputs().length == 1
          && role.containsKey(op.outputs()[0]) && op.inputs()[0] >= 0) {
        role.putIfAbsent(op.inputs()[0], role.get(op.outputs()[0]));
      }
    }
    Map<String, Long> bytes = new LinkedHashMap<>();
    List<TensorInfo> tensors = new ArrayList<>();
    for (int t = 0; t < model.tensors().size(); t++) {
      TfliteTensor tensor = model.tensors().get(t);
      long dataBytes = tensor.isConstant() ? tensor.data().length : 0;
      if (tensor.isConstant()) {
        String kind = role.containsKey(t) ? role.get(t) + "." + tensor.type().name().toLowerCase() : "constants.other";
        bytes.merge(kind, dataBytes, Long::sum);
      }
      tensors.add(tensorInfo(t, tensor, dataBytes));
    }
    long metadataBytes = 0;
    List<MetadataInfo> metadata = new ArrayList<>();
    String minRuntimeVersion = null;
    for (Map.Entry<String, byte[]> e : model.metadata().entrySet()) {
      metadataBytes += e.getValue().length;
      String text = text(e.getValue());
      metadata.add(new MetadataInfo(e.getKey(), e.getValue().length, text));
      if (MIN_RUNTIME_VERSION.equals(e.getKey())) {
        minRuntimeVersion = text;
      }
    }
    bytes.put("metadata", metadataBytes);
    bytes.put("file", fileBytes);
    return new TfliteModelSummary(fileBytes, model.description(), List.copyOf(operators), List.copyOf(tensors),
        java.util.Collections.unmodifiableMap(bytes), minRuntimeVersion, List.copyOf(metadata),
        List.copyOf(ModelCheck.verify(model, ops)));
  }

  private static TensorInfo tensorInfo(int index, TfliteTensor t, long dataBytes) {
    TfliteQuantization q = t.quantization();
    String type = t.type().name();
    if (q == null) {
      return new TensorInfo(index, t.name(), type, t.shape().clone(), t.isConstant(), dataBytes, "none",
          null, null, null, null, null, null, null, null);
    }
    if (!q.isPerChannel()) {
      return new TensorInfo(index, t.name(), type, t.shape().clone(), t.isConstant(), dataBytes, "per-tensor",
          q.scale()[0], q.zeroPoint()[0], null, null, null, null, null, null);
    }
    float scaleMin = Float.POSITIVE_INFINITY;
    float scaleMax = Float.NEGATIVE_INFINITY;
    long zpMin = Long.MAX_VALUE;
    long zpMax = Long.MIN_VALUE;
    for (int c = 0; c < q.scale().length; c++) {
      scaleMin = Math.min(scaleMin, q.scale()[c]);
      scaleMax = Math.max(scaleMax, q.scale()[c]);
      zpMin = Math.min(zpMin, q.zeroPoint()[c]);
      zpMax = Math.max(zpMax, q.zeroPoint()[c]);
    }
    return new TensorInfo(index, t.name(), type, t.shape().clone(), t.isConstant(), dataBytes, "per-channel",
        null, null, q.scale().length, scaleMin, scaleMax, zpMin, zpMax, q.quantizedDimension());
  }

  /** The bytes as text if they are valid UTF-8 without control characters (trailing NULs removed), else null. */
  static String text(byte[] value) {
    int end = value.length;
    while (end > 0 && value[end - 1] == 0) {
      end--;
    }
    String s;
    try {
      s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(value, 0, end)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 32 && c != '\n' && c != '\r' && c != '\t') {
        return null;
      }
    }
    return s;
  }
}
