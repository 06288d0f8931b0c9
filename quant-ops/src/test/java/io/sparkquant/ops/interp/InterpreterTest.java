package io.sparkquant.ops.interp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteWriter;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteTestModels;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The interpreter as a whole: a multi-op CNN against TFLite 2.6.2, batching, intermediates, errors, threads. */
class InterpreterTest {

  private static byte[] quantizeImages(float[] x) {
    byte[] q = new byte[x.length];
    for (int i = 0; i < x.length; i++) {
      q[i] = (byte) (Math.round(x[i] * 255) - 128); // exact: x = k / 255
    }
    return q;
  }

  @Test
  void cnnIsBitExactWithTfliteForEveryBatchSize() {
    TfliteModel int8 = TestCnn.build(1, 1, false);
    TfliteModel floatIo = TestCnn.build(1, 1, true);
    for (int batch : new int[] {1, 3, 8}) {
      float[] images = TestCnn.images(100 + batch, batch);
      Judge.check("cnn int8 batch " + batch, int8, quantizeImages(images));
      // float I/O: QUANTIZE and DEQUANTIZE are exact too, so no tolerance
      Judge.checkWithin("cnn float io batch " + batch, floatIo, 0f, images);
    }
  }

  @Test
  void runAllExposesIntermediatesThatMatchTheRuntime() {
    TfliteModel cnn = TestCnn.build(2, 1, true);
    int conv1 = cnn.tensorIndex("conv1");
    int pool2 = cnn.tensorIndex("pool2");
    // the same model with intermediate tensors as extra outputs, so TFLite reports them
    TfliteModel.Builder b = TfliteModel.builder().description("cnn with intermediates");
    cnn.tensors().forEach(b::addTensor);
    cnn.operators().forEach(b::addOperator);
    TfliteModel withIntermediates = b.inputs(cnn.inputs()).outputs(cnn.outputs()[0], conv1, pool2).build();
    float[] images = TestCnn.images(7, 2);

    Interpreter interpreter = new Interpreter(cnn);
    TensorValue[] all = interpreter.runAll(new TensorValue(TensorType.FLOAT32, new int[] {2, 28, 28, 1}, images));
    assertEquals(cnn.tensors().size(), all.length);
    assertArrayEquals(new int[] {2, 28, 28, 16}, all[conv1].shape());
    assertNotNull(all[interpreter.tensorIndex("dense/weights")], "constants are included");
    TensorValue[] again = interpreter.runAll(new TensorValue(TensorType.FLOAT32, new int[] {2, 28, 28, 1}, images));
    assertSame(all[interpreter.tensorIndex("dense/weights")].data(), again[interpreter.tensorIndex("dense/weights")]
        .data(), "constants are shared read-only, not copied on every run");
    assertNotSame(all[conv1].data(), again[conv1].data(), "every run has its own activations");
    Object[] tflite = Judge.tflite(withIntermediates, 2, images);
    assertArrayEquals((byte[]) tflite[1], all[conv1].int8s(), "conv1");
    assertArrayEquals((byte[]) tflite[2], all[pool2].int8s(), "pool2");
    assertArrayEquals((float[]) tflite[0], all[cnn.outputs()[0]].floats(), "probs");
  }

  @Test
  void oneInstanceRunsConcurrentlyWithSequentialResults() throws Exception {
    Interpreter interpreter = new Interpreter(TestCnn.build(3, 1, false));
    List<byte[]> inputs = new ArrayList<>();
    List<byte[]> sequential = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      byte[] x = quantizeImages(TestCnn.images(200 + i, 2));
      inputs.add(x);
      sequential.add((byte[]) interpreter.run((Object) x)[0]);
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<byte[]>> futures = new ArrayList<>();
      for (byte[] x : inputs) {
        futures.add(pool.submit(() -> (byte[]) interpreter.run((Object) x)[0]));
      }
      for (int i = 0; i < inputs.size(); i++) {
        assertArrayEquals(sequential.get(i), futures.get(i).get(), "input " + i);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void rejectsWrongInputsWithClearMessages() {
    Interpreter interpreter = new Interpreter(TestCnn.build(4, 1, false));
    IllegalArgumentException wrongType = assertThrows(IllegalArgumentException.class,
        () -> interpreter.run((Object) new float[784]));
    assertTrue(wrongType.getMessage().contains("'image_int8' is INT8 and needs a byte[], got float[]"),
        wrongType.getMessage());
    IllegalArgumentException wrongLength = assertThrows(IllegalArgumentException.class,
        () -> interpreter.run((Object) new byte[785]));
    assertTrue(wrongLength.getMessage().contains("positive multiple of 784, got 785"), wrongLength.getMessage());
    IllegalArgumentException wrongShape = assertThrows(IllegalArgumentException.class,
        () -> interpreter.run(new TensorValue(TensorType.INT8, new int[] {1, 28, 27, 1}, new byte[756])));
    assertTrue(wrongShape.getMessage().contains("must have shape [batch >= 1, 28, 28, 1]"), wrongShape.getMessage());
    assertThrows(IllegalArgumentException.class, () -> interpreter.run(new Object[0]));
  }

  @Test
  void rejectsOperatorsOutsideTheOpSetAtConstruction() {
    TfliteModel cnn = TestCnn.build(5, 1, false);
    List<TfliteOperator> ops = new ArrayList<>(cnn.operators());
    TfliteOperator pool = ops.get(1);
    ops.set(1, new TfliteOperator(null, "GATHER", 36, 1, pool.inputs(), pool.outputs(), null));
    TfliteModel unknown = new TfliteModel("x", cnn.tensors(), ops, cnn.inputs(), cnn.outputs(), cnn.metadata());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Interpreter(unknown));
    assertTrue(e.getMessage().contains("operator 1 (GATHER): not supported"), e.getMessage());
    assertTrue(e.getMessage().contains("supported: ADD (") && e.getMessage().contains("FULLY_CONNECTED (int8"),
        e.getMessage());

    // a supported op with an unsupported type combination: int8 input, float32 filter
    List<TfliteTensor> tensors = new ArrayList<>(cnn.tensors());
    int w = cnn.tensorIndex("conv1/weights");
    tensors.set(w, TfliteTensor.constantFloat32("conv1/weights", new int[] {16, 3, 3, 1}, new float[144]));
    TfliteModel mixed = new TfliteModel("x", tensors, cnn.operators(), cnn.inputs(), cnn.outputs(), cnn.metadata());
    InvalidModelException m = assertThrows(InvalidModelException.class, () -> new Interpreter(mixed));
    assertTrue(m.getMessage().contains("operator 0 (CONV_2D)") && m.getMessage().contains("(INT8, FLOAT32, INT32, INT8)"),
        m.getMessage());
    assertEquals(InvalidModelException.Kind.UNSUPPORTED, m.kind());
  }

  /** The version check comes from the registrations: one above the registered maximum is refused. */
  @Test
  void rejectsAVersionAboveTheRegisteredMaximum() {
    TfliteModel cnn = TestCnn.build(5, 1, false);
    List<TfliteOperator> ops = new ArrayList<>(cnn.operators());
    TfliteOperator pool = ops.get(1);
    int max = BuiltinOpResolver.INSTANCE.find(pool.op()).maxVersion();
    ops.set(1, TfliteOperator.of(pool.op(), max + 1, pool.inputs(), pool.outputs(), pool.options()));
    TfliteModel newer = new TfliteModel("x", cnn.tensors(), ops, cnn.inputs(), cnn.outputs(), cnn.metadata());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Interpreter(newer));
    assertTrue(e.getMessage().contains("version " + (max + 1) + " is above " + max), e.getMessage());
    ops.set(1, TfliteOperator.of(pool.op(), max, pool.inputs(), pool.outputs(), pool.options()));
    new Interpreter(new TfliteModel("x", cnn.tensors(), ops, cnn.inputs(), cnn.outputs(), cnn.metadata()));
  }

  @Test
  void int8SoftmaxOutputMustUseTheFixedParameters() {
    TfliteModel cnn = TestCnn.build(6, 1, false);
    List<TfliteTensor> tensors = new ArrayList<>(cnn.tensors());
    int probs = cnn.tensorIndex("probs_int8");
    TfliteTensor t = tensors.get(probs);
    tensors.set(probs, TfliteTensor.activation(t.name(), t.type(), t.shape(), TfliteQuantization.perTensor(0.01f, 0)));
    TfliteModel bad = new TfliteModel("x", tensors, cnn.operators(), cnn.inputs(), cnn.outputs(), cnn.metadata());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Interpreter(bad));
    assertTrue(e.getMessage().contains("SOFTMAX") && e.getMessage().contains("1/256"), e.getMessage());
    // and TFLite refuses it too
    assertThrows(RuntimeException.class, () -> TfliteRuntime.create(TfliteWriter.write(bad), 1));
  }

  /**
   * LOGISTIC and TANH have fixed quantized outputs (TFLite's quantization spec; int8: 1/256 and -128, 1/128 and 0;
   * int16: 1/32768 and 0); any other scale or zero point is refused in prepare, naming the operator index. TFLite
   * 2.6.2's own Prepare refuses only some of them (a LOGISTIC scale, the int16 scales); it runs an int8 TANH or a
   * LOGISTIC zero point off the spec with lookup tables for those parameters, which other runtimes refuse.
   */
  @Test
  void logisticAndTanhOutputsMustUseTheFixedParameters() {
    record Bad(BuiltinOp op, TensorType type, float scale, int zeroPoint, String expected, boolean tfliteRefuses) {}
    List<Bad> cases = List.of(
        new Bad(BuiltinOp.LOGISTIC, TensorType.INT8, 1f / 128, -128, "scale 1/256 and zero point -128", true),
        new Bad(BuiltinOp.LOGISTIC, TensorType.INT8, 1f / 256, 0, "scale 1/256 and zero point -128", false),
        new Bad(BuiltinOp.TANH, TensorType.INT8, 1f / 256, 0, "scale 1/128 and zero point 0", false),
        new Bad(BuiltinOp.TANH, TensorType.INT8, 1f / 128, -128, "scale 1/128 and zero point 0", false),
        new Bad(BuiltinOp.LOGISTIC, TensorType.INT16, 1f / 16384, 0, "scale 1/32768 and zero point 0", true),
        new Bad(BuiltinOp.TANH, TensorType.INT16, 1f / 65536, 0, "scale 1/32768 and zero point 0", true));
    for (Bad c : cases) {
      boolean int16 = c.type() == TensorType.INT16;
      TfliteQuantization in = TfliteQuantization.perTensor(int16 ? 2e-4f : 0.05f, 0);
      TfliteModel bad = TfliteTestModels.singleOp(c.op(), int16 ? 3 : 2, null)
          .input("x", c.type(), new int[] {1, 8}, in)
          .output("y", c.type(), new int[] {1, 8}, TfliteQuantization.perTensor(c.scale(), c.zeroPoint())).build();
      InvalidModelException e = assertThrows(InvalidModelException.class, () -> new Interpreter(bad), c.toString());
      assertTrue(e.getMessage().contains("operator 0 (" + c.op() + ")") && e.getMessage().contains(c.expected())
          && e.getMessage().contains("'y'"), e.getMessage());
      assertEquals(InvalidModelException.Kind.INVALID, e.kind(), c.toString());
      boolean refused;
      try (TfliteRuntime runtime = TfliteRuntime.create(TfliteWriter.write(bad), 1)) {
        refused = false;
      } catch (RuntimeException tfliteRefusal) {
        refused = true;
      }
      assertEquals(c.tfliteRefuses(), refused, c + ": TFLite 2.6.2's Prepare");
    }
  }

  /** A standalone RELU or RELU6 (the exporter writes one after a pool) runs, bit-exact with TFLite 2.6.2. */
  @Test
  void standaloneReluAndRelu6RunInTheCnn() {
    TfliteModel cnn = TestCnn.build(8, 1, false);
    for (BuiltinOp act : new BuiltinOp[] {BuiltinOp.RELU, BuiltinOp.RELU6}) {
      // the first pool becomes the activation: same int8 shape and (shared) quantization, so the model stays valid
      List<TfliteOperator> ops = new ArrayList<>(cnn.operators());
      TfliteOperator pool = ops.get(1);
      TfliteTensor poolIn = cnn.tensor(pool.inputs()[0]);
      TfliteTensor poolOut = cnn.tensor(pool.outputs()[0]);
      List<TfliteTensor> tensors = new ArrayList<>(cnn.tensors());
      tensors.set(pool.outputs()[0], TfliteTensor.activation(poolOut.name(), poolOut.type(), poolIn.shape(),
          poolOut.quantization()));
      ops.set(1, TfliteOperator.of(act, 2, new int[] {pool.inputs()[0]}, pool.outputs(), null));
      ops.subList(2, ops.size()).clear();
      TfliteModel relu = new TfliteModel("x", tensors, ops, cnn.inputs(), new int[] {pool.outputs()[0]},
          cnn.metadata());
      Object[] out = Judge.check("cnn with a standalone " + act, relu, quantizeImages(TestCnn.images(9, 3)));
      byte[] y = (byte[]) out[0];
      int zeroPoint = (int) poolOut.quantization().zeroPoint()[0];
      for (byte v : y) {
        assertTrue(v >= zeroPoint, act + " output " + v + " below the zero point " + zeroPoint);
      }
    }
  }
}
