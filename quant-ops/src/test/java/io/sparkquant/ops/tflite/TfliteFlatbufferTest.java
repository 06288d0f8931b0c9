package io.sparkquant.ops.tflite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.flatbuffers.FlatBufferBuilder;
import io.sparkquant.ops.interp.BuiltinOpResolver;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.tflite.TfliteTestModels.Int8FcParams;
import io.sparkquant.ops.tflite.schema.Buffer;
import io.sparkquant.ops.tflite.schema.Model;
import io.sparkquant.ops.tflite.schema.OperatorCode;
import io.sparkquant.ops.tflite.schema.SubGraph;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TfliteFlatbufferTest {

  /** Models covering every kind of content the writer emits. */
  static List<TfliteModel> sampleModels() {
    Random random = new Random(11);
    byte[] fcWeights = new byte[4 * 8];
    random.nextBytes(fcWeights);
    byte[] convWeights = new byte[3 * 3 * 3 * 2];
    random.nextBytes(convWeights);
    List<TfliteModel> models = new ArrayList<>();
    models.add(TfliteTestModels.floatAdd(new int[] {2, 3}));
    models.add(TfliteTestModels.floatFullyConnected(2, 3, 2, new float[] {1, 2, 3, 4, 5, 6}, new float[] {0.5f, -1},
        FusedActivation.RELU6));
    models.add(TfliteTestModels.int8FullyConnected(1, 8, 4, fcWeights, new int[] {1, 2, 3, 4},
        new Int8FcParams(0.02f, -3, 0.01f, 0.05f, 5)));
    models.add(TfliteTestModels.int8Conv2D(new int[] {1, 4, 4, 2}, 3, 3, 3, convWeights, new float[] {0.1f, 0.2f, 0.3f},
        new int[] {5, 6, 7}, 0.5f, 1, 0.25f, -2, Padding.SAME));
    models.add(withMetadata(TfliteTestModels.floatAdd(new int[] {4})));
    for (BuiltinOp op : BuiltinOp.values()) {
      models.add(TfliteOpVersionsTest.probe(op, 1));
    }
    return models;
  }

  static TfliteModel withMetadata(TfliteModel m) {
    TfliteModel.Builder b = TfliteModel.builder().description("with metadata");
    m.tensors().forEach(b::addTensor);
    m.operators().forEach(b::addOperator);
    return b.inputs(m.inputs()).outputs(m.outputs())
        .metadata("min_runtime_version", "2.6.0\0\0\0\0\0\0\0\0\0\0\0".getBytes(StandardCharsets.US_ASCII))
        .metadata("sparkquant_provenance", "{\"seed\":7}".getBytes(StandardCharsets.UTF_8))
        .build();
  }

  @Test
  void writeReadWriteIsByteIdentical() {
    for (TfliteModel model : sampleModels()) {
      byte[] first = TfliteWriter.write(model);
      byte[] second = TfliteWriter.write(TfliteReader.read(first));
      assertArrayEquals(first, second, model.description());
      assertTrue(ModelCheck.verify(model, BuiltinOpResolver.INSTANCE).isEmpty(), model.description() + ": " + ModelCheck.verify(model, BuiltinOpResolver.INSTANCE));
    }
  }

  @Test
  void readReturnsWhatWasWritten() {
    TfliteModel model = sampleModels().get(3); // int8 conv, per-channel
    TfliteModel back = TfliteReader.read(TfliteWriter.write(model));
    assertEquals(model.description(), back.description());
    assertArrayEquals(model.inputs(), back.inputs());
    assertArrayEquals(model.outputs(), back.outputs());
    assertEquals(model.tensors().size(), back.tensors().size());
    for (int t = 0; t < model.tensors().size(); t++) {
      TfliteTensor a = model.tensor(t);
      TfliteTensor b = back.tensor(t);
      assertEquals(a.name(), b.name());
      assertEquals(a.type(), b.type());
      assertArrayEquals(a.shape(), b.shape());
      assertArrayEquals(a.data(), b.data());
      if (a.quantization() == null) {
        assertNull(b.quantization());
      } else {
        assertArrayEquals(a.quantization().scale(), b.quantization().scale());
        assertArrayEquals(a.quantization().zeroPoint(), b.quantization().zeroPoint());
        assertEquals(a.quantization().quantizedDimension(), b.quantization().quantizedDimension());
      }
    }
    TfliteOperator op = back.operators().get(0);
    assertEquals(BuiltinOp.CONV_2D, op.op());
    assertEquals("CONV_2D", op.opName());
    assertEquals(3, op.version());
    assertEquals(new OperatorOptions.ConvParams(Padding.SAME, 1, 1, FusedActivation.NONE, 1, 1), op.options());
  }

  @Test
  void layoutFollowsTfliteConventions() {
    TfliteModel model = withMetadata(TfliteTestModels.floatFullyConnected(1, 2, 1, new float[] {1, 2}, new float[] {3},
        FusedActivation.NONE));
    byte[] bytes = TfliteWriter.write(model);
    assertEquals("TFL3", new String(bytes, 4, 4, StandardCharsets.US_ASCII));
    Model m = Model.getRootAsModel(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
    assertEquals(3, m.version());
    // Buffer 0 empty, one per constant (w, bias), one per metadata entry.
    assertEquals(1 + 2 + 2, m.buffersLength());
    assertEquals(0, m.buffers(0).dataLength());
    for (int i = 1; i < m.buffersLength(); i++) {
      Buffer buffer = m.buffers(i);
      assertEquals(0, buffer.dataAsByteBuffer().position() % 16, "buffer " + i + " data is 16-byte aligned");
    }
    SubGraph sg = m.subgraphs(0);
    assertEquals(0, sg.tensors(0).buffer(), "activation points at the empty buffer");
    assertEquals(1, sg.tensors(1).buffer());
    assertEquals(2, sg.tensors(2).buffer());
    assertEquals(2, m.metadataLength());
    assertEquals("min_runtime_version", m.metadata(0).name());
    assertEquals(3, m.metadata(0).buffer());
    assertEquals("with metadata", m.description());
    TfliteModel back = TfliteReader.read(bytes);
    assertEquals(List.of("min_runtime_version", "sparkquant_provenance"), List.copyOf(back.metadata().keySet()));
    assertArrayEquals(model.metadata().get("sparkquant_provenance"), back.metadata().get("sparkquant_provenance"));
  }

  @Test
  void operatorCodesAreDeduplicatedWithBothCodeFields() {
    TfliteModel.Builder b = TfliteModel.builder();
    int x = b.addTensor(TfliteTensor.activation("x", TensorType.FLOAT32, new int[] {2}, null));
    int y = b.addTensor(TfliteTensor.activation("y", TensorType.FLOAT32, new int[] {2}, null));
    int z = b.addTensor(TfliteTensor.activation("z", TensorType.FLOAT32, new int[] {2}, null));
    int u = b.addTensor(TfliteTensor.activation("u", TensorType.FLOAT32, new int[] {2}, null));
    int v = b.addTensor(TfliteTensor.activation("v", TensorType.FLOAT32, new int[] {2}, null));
    b.addOperator(TfliteOperator.of(BuiltinOp.RELU, 1, new int[] {x}, new int[] {y}, null));
    b.addOperator(TfliteOperator.of(BuiltinOp.RELU, 1, new int[] {y}, new int[] {z}, null));
    b.addOperator(TfliteOperator.of(BuiltinOp.RELU, 2, new int[] {z}, new int[] {u}, null));
    // An op outside BuiltinOp, code above 127 (GELU = 150): only the int32 field can hold it.
    b.addOperator(new TfliteOperator(null, "GELU", 150, 1, new int[] {u}, new int[] {v}, null));
    TfliteModel model = b.inputs(x).outputs(v).build();
    byte[] bytes = TfliteWriter.write(model);
    Model m = Model.getRootAsModel(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
    assertEquals(3, m.operatorCodesLength());
    OperatorCode relu1 = m.operatorCodes(0);
    assertEquals(19, relu1.builtinCode());
    assertEquals(19, relu1.deprecatedBuiltinCode());
    assertEquals(1, relu1.version());
    assertEquals(2, m.operatorCodes(1).version());
    assertEquals(150, m.operatorCodes(2).builtinCode());
    assertEquals(127, m.operatorCodes(2).deprecatedBuiltinCode());
    assertEquals(0, m.subgraphs(0).operators(1).opcodeIndex());
    assertEquals(2, m.subgraphs(0).operators(3).opcodeIndex());

    TfliteModel back = TfliteReader.read(bytes);
    TfliteOperator gelu = back.operators().get(3);
    assertNull(gelu.op());
    assertEquals("GELU", gelu.opName());
    assertEquals(150, gelu.builtinCode());
    assertTrue(ModelCheck.verify(back, BuiltinOpResolver.INSTANCE).stream().anyMatch(p -> p.contains("GELU") && p.contains("not supported")),
        ModelCheck.verify(back, BuiltinOpResolver.INSTANCE).toString());
    assertArrayEquals(bytes, TfliteWriter.write(back));

    // A code newer than the generated schema keeps a usable name.
    assertTrue(m.operatorCodes(2).mutateBuiltinCode(300));
    assertEquals("BUILTIN_300", TfliteReader.read(bytes).operators().get(3).opName());
  }

  @Test
  void readsOldFilesThatOnlySetTheDeprecatedByte() {
    byte[] bytes = TfliteWriter.write(TfliteOpVersionsTest.probe(BuiltinOp.RELU, 1));
    Model m = Model.getRootAsModel(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
    // TFLite reads max(builtin_code, deprecated_builtin_code): a byte of 25 (SOFTMAX) beats 19 (RELU).
    assertTrue(m.operatorCodes(0).mutateDeprecatedBuiltinCode((byte) 25));
    assertEquals("SOFTMAX", TfliteReader.read(bytes).operators().get(0).opName());
  }

  @Test
  void wrongIdentifierIsRejected() {
    byte[] bytes = TfliteWriter.write(TfliteTestModels.floatAdd(new int[] {2}));
    bytes[7] = '2';
    InvalidModelException e = assertThrows(InvalidModelException.class, () -> TfliteReader.read(bytes));
    assertTrue(e.getMessage().contains("TFL2") && e.getMessage().contains("TFL3"), e.getMessage());
    assertThrows(InvalidModelException.class, () -> TfliteReader.read(new byte[0]));
    assertThrows(InvalidModelException.class, () -> TfliteReader.read("PK\3\4 not a model".getBytes()));
  }

  @Test
  void outOfRangeTensorIndexNamesTheOperator() {
    byte[] bytes = TfliteWriter.write(TfliteTestModels.floatAdd(new int[] {2}));
    Model m = Model.getRootAsModel(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
    assertTrue(m.subgraphs(0).operators(0).mutateInputs(1, 42));
    InvalidModelException e = assertThrows(InvalidModelException.class, () -> TfliteReader.read(bytes));
    assertTrue(e.getMessage().contains("operator 0 (ADD) input 1") && e.getMessage().contains("42"), e.getMessage());
  }

  @Test
  void wrongVersionAndBufferSizeAndSubgraphCountAreRejected() {
    byte[] bytes = TfliteWriter.write(TfliteTestModels.floatFullyConnected(1, 2, 1, new float[] {1, 2}, null,
        FusedActivation.NONE));
    Model m = Model.getRootAsModel(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
    assertTrue(m.subgraphs(0).tensors(1).mutateShape(1, 3)); // w [1,2] -> [1,3]: 12 bytes needed, 8 present
    InvalidModelException size = assertThrows(InvalidModelException.class, () -> TfliteReader.read(bytes));
    assertTrue(size.getMessage().contains("tensor 1 'w'") && size.getMessage().contains("12"), size.getMessage());
    assertTrue(m.mutateVersion(2));
    InvalidModelException version = assertThrows(InvalidModelException.class, () -> TfliteReader.read(bytes));
    assertTrue(version.getMessage().contains("version 2"), version.getMessage());

    InvalidModelException two = assertThrows(InvalidModelException.class,
        () -> TfliteReader.read(twoSubgraphs()));
    assertTrue(two.getMessage().contains("2 subgraphs"), two.getMessage());
  }

  private static byte[] twoSubgraphs() {
    FlatBufferBuilder b = new FlatBufferBuilder();
    SubGraph.startSubGraph(b);
    int s0 = SubGraph.endSubGraph(b);
    SubGraph.startSubGraph(b);
    int s1 = SubGraph.endSubGraph(b);
    int subgraphs = Model.createSubgraphsVector(b, new int[] {s0, s1});
    Buffer.startBuffer(b);
    int buffers = Model.createBuffersVector(b, new int[] {Buffer.endBuffer(b)});
    Model.startModel(b);
    Model.addVersion(b, 3);
    Model.addSubgraphs(b, subgraphs);
    Model.addBuffers(b, buffers);
    Model.finishModelBuffer(b, Model.endModel(b));
    return b.sizedByteArray();
  }

  /**
   * Cutting a file short is an InvalidModelException, except when only trailing alignment padding is cut:
   * then nothing is lost and the model reads back complete.
   */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void everyTruncationIsAnInvalidModelOrLosesNothing() {
    for (TfliteModel model : List.of(sampleModels().get(2), sampleModels().get(4))) {
      byte[] bytes = TfliteWriter.write(model);
      int rejected = 0;
      for (int length = 0; length < bytes.length; length++) {
        byte[] cut = Arrays.copyOf(bytes, length);
        try {
          TfliteModel back = TfliteReader.read(cut);
          assertTrue(bytes.length - length < 16, "only padding can be cut, cut " + (bytes.length - length));
          assertArrayEquals(bytes, TfliteWriter.write(back), "truncated at " + length);
        } catch (InvalidModelException e) {
          rejected++;
        }
      }
      assertTrue(rejected > bytes.length - 16);
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void randomBytesAndBitFlipsNeverEscapeAsOtherExceptions() {
    Random random = new Random(20261127L);
    int parsed = 0;
    int rejected = 0;
    for (int i = 0; i < 2000; i++) {
      byte[] junk = new byte[random.nextInt(600)];
      random.nextBytes(junk);
      if (junk.length >= 8 && random.nextBoolean()) {
        System.arraycopy("TFL3".getBytes(StandardCharsets.US_ASCII), 0, junk, 4, 4); // get past the identifier
      }
      if (readSafely(junk)) {
        parsed++;
      } else {
        rejected++;
      }
    }
    List<TfliteModel> samples = sampleModels();
    for (int i = 0; i < 4000; i++) {
      byte[] bytes = TfliteWriter.write(samples.get(i % samples.size()));
      int flips = 1 + random.nextInt(4);
      for (int f = 0; f < flips; f++) {
        int pos = random.nextInt(bytes.length);
        bytes[pos] = random.nextInt(3) == 0 ? (byte) random.nextInt(256) : (byte) (bytes[pos] ^ (1 << random.nextInt(8)));
      }
      if (readSafely(bytes)) {
        parsed++;
      } else {
        rejected++;
      }
    }
    assertTrue(rejected > 1000, "most corruptions are detected, rejected " + rejected + ", parsed " + parsed);
  }

  /** Returns true if the bytes parsed; anything but InvalidModelException fails the test. */
  private static boolean readSafely(byte[] bytes) {
    TfliteModel model;
    try {
      model = TfliteReader.read(bytes);
    } catch (InvalidModelException e) {
      assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
      return false;
    }
    // Whatever parsed must be checkable and, if structurally sound, writable.
    List<String> problems = ModelCheck.verify(model, BuiltinOpResolver.INSTANCE);
    if (ModelCheck.structuralProblems(model).isEmpty()) {
      TfliteWriter.write(model);
    } else {
      assertTrue(!problems.isEmpty());
    }
    return true;
  }

  @Test
  void verifyReportsDataflowOptionsAndQuantizationProblems() {
    TfliteModel.Builder b = TfliteModel.builder();
    int x = b.addTensor(TfliteTensor.activation("x", TensorType.INT8, new int[] {2},
        TfliteQuantization.perTensor(0f, 200)));
    int y = b.addTensor(TfliteTensor.activation("y", TensorType.FLOAT32, new int[] {2}, null));
    int orphan = b.addTensor(TfliteTensor.activation("orphan", TensorType.FLOAT32, new int[] {2}, null));
    b.addOperator(TfliteOperator.of(BuiltinOp.ADD, 9, new int[] {x, orphan}, new int[] {y}, null));
    List<String> problems = ModelCheck.verify(b.inputs(x).outputs(y).build(), BuiltinOpResolver.INSTANCE);
    String all = String.join("\n", problems);
    assertTrue(all.contains("missing AddParams options"), all);
    assertTrue(all.contains("version 9 is above 4"), all);
    assertTrue(all.contains("'orphan' is neither a model input"), all);
    assertTrue(all.contains("scale[0] = 0.0"), all);
    assertTrue(all.contains("zero point[0] = 200"), all);

    TfliteModel badIndex = TfliteModel.builder().inputs(0).outputs(5).build();
    assertThrows(IllegalArgumentException.class, () -> TfliteWriter.write(badIndex));
  }
}
