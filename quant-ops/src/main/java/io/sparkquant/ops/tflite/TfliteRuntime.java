package io.sparkquant.ops.tflite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.lite.DataType;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.Tensor;

/**
 * The real TensorFlow Lite 2.6.2 interpreter (org.tensorflow.lite.Interpreter from DJL's tflite-engine with
 * the linux-x86_64 native library), the judge for SparkQuant's own kernels and interpreter.
 *
 * <p>Inputs and outputs are flat, row-major Java primitive arrays matching the tensor type: {@code float[]}
 * (FLOAT32), {@code byte[]} (INT8, UINT8), {@code short[]} (INT16), {@code int[]} (INT32), {@code long[]}
 * (INT64). Shapes come from the model; {@link #resizeBatch} changes dimension 0 of every input.
 * Not thread-safe: one instance per thread. XNNPACK is off, so the built-in kernels run.
 */
public final class TfliteRuntime implements AutoCloseable {

  private final Interpreter interpreter;
  private final ByteBuffer modelBuffer; // TFLite reads the model from this direct buffer for its lifetime.
  // Direct buffers reused across run() calls; reallocated when the tensor sizes change (resizeBatch).
  private ByteBuffer[] inputBuffers = new ByteBuffer[0];
  private ByteBuffer[] outputBuffers = new ByteBuffer[0];
  private boolean closed;

  private TfliteRuntime(Interpreter interpreter, ByteBuffer modelBuffer) {
    this.interpreter = interpreter;
    this.modelBuffer = modelBuffer;
  }

  /**
   * Loads a model into the TFLite runtime. Throws {@link TfliteRuntimeException} with TFLite's message when
   * the runtime rejects it (unknown op or version, inconsistent tensors, failed Prepare).
   */
  public static TfliteRuntime create(byte[] model, int numThreads) {
    if (numThreads < 1) {
      throw new IllegalArgumentException("numThreads must be >= 1, got " + numThreads);
    }
    TfliteNative.load();
    ByteBuffer buffer = ByteBuffer.allocateDirect(model.length).order(ByteOrder.nativeOrder());
    buffer.put(model).rewind();
    Interpreter.Options options = new Interpreter.Options().setNumThreads(numThreads).setUseXNNPACK(false);
    Interpreter interpreter;
    try {
      interpreter = new Interpreter(buffer, options);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new TfliteRuntimeException("TFLite 2.6.2 cannot load the model (" + model.length + " bytes): "
          + e.getMessage(), e);
    }
    TfliteRuntime runtime = new TfliteRuntime(interpreter, buffer);
    try {
      interpreter.allocateTensors();
    } catch (IllegalArgumentException | IllegalStateException e) {
      runtime.close();
      throw new TfliteRuntimeException("TFLite 2.6.2 cannot allocate the model's tensors: " + e.getMessage(), e);
    }
    return runtime;
  }

  /** The TFLite runtime version string ("2.6.2"). */
  public static String runtimeVersion() {
    TfliteNative.load();
    return org.tensorflow.lite.TensorFlowLite.runtimeVersion();
  }

  /**
   * Runs one inference. Each input is a flat primitive array with exactly the input tensor's element count;
   * returns one flat array per model output, in model output order.
   */
  public Object[] run(Object... inputs) {
    checkOpen();
    int inputCount = interpreter.getInputTensorCount();
    if (inputs.length != inputCount) {
      throw new IllegalArgumentException("Model has " + inputCount + " inputs, got " + inputs.length);
    }
    inputBuffers = sized(inputBuffers, inputCount);
    Object[] inputArgs = new Object[inputCount];
    for (int i = 0; i < inputCount; i++) {
      Tensor t = interpreter.getInputTensor(i);
      inputBuffers[i] = capacity(inputBuffers[i], t.numBytes());
      fill(t, inputs[i], inputBuffers[i], "input " + i);
      inputArgs[i] = inputBuffers[i];
    }
    int outputCount = interpreter.getOutputTensorCount();
    outputBuffers = sized(outputBuffers, outputCount);
    Map<Integer, Object> outputArgs = new HashMap<>();
    for (int o = 0; o < outputCount; o++) {
      outputBuffers[o] = capacity(outputBuffers[o], interpreter.getOutputTensor(o).numBytes());
      outputBuffers[o].clear();
      outputArgs.put(o, outputBuffers[o]);
    }
    try {
      interpreter.runForMultipleInputsOutputs(inputArgs, outputArgs);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new TfliteRuntimeException("TFLite 2.6.2 failed to run the model: " + e.getMessage(), e);
    }
    Object[] outputs = new Object[outputCount];
    for (int o = 0; o < outputCount; o++) {
      outputs[o] = fromBuffer(interpreter.getOutputTensor(o), outputBuffers[o]);
    }
    return outputs;
  }

  private static ByteBuffer[] sized(ByteBuffer[] buffers, int n) {
    return buffers.length == n ? buffers : new ByteBuffer[n];
  }

  /** The buffer itself if it holds exactly {@code bytes}, else a new direct buffer of that size. */
  private static ByteBuffer capacity(ByteBuffer buffer, int bytes) {
    if (buffer != null && buffer.capacity() == bytes) {
      buffer.clear();
      return buffer;
    }
    return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
  }

  /** Sets dimension 0 of every input to {@code batch} and reallocates; output shapes follow. */
  public void resizeBatch(int batch) {
    checkOpen();
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be >= 1, got " + batch);
    }
    try {
      for (int i = 0; i < interpreter.getInputTensorCount(); i++) {
        int[] shape = interpreter.getInputTensor(i).shape().clone();
        if (shape.length == 0) {
          throw new IllegalArgumentException("Input " + i + " is a scalar; it has no batch dimension");
        }
        shape[0] = batch;
        interpreter.resizeInput(i, shape);
      }
      interpreter.allocateTensors();
    } catch (IllegalStateException e) {
      throw new TfliteRuntimeException("TFLite 2.6.2 cannot resize the batch to " + batch + ": " + e.getMessage(), e);
    }
  }

  public int inputCount() {
    checkOpen();
    return interpreter.getInputTensorCount();
  }

  public int outputCount() {
    checkOpen();
    return interpreter.getOutputTensorCount();
  }

  public int[] inputShape(int i) {
    checkOpen();
    return interpreter.getInputTensor(i).shape();
  }

  public int[] outputShape(int o) {
    checkOpen();
    return interpreter.getOutputTensor(o).shape();
  }

  public TensorType inputType(int i) {
    checkOpen();
    return toTensorType(interpreter.getInputTensor(i).dataType());
  }

  public TensorType outputType(int o) {
    checkOpen();
    return toTensorType(interpreter.getOutputTensor(o).dataType());
  }

  /** The input's scale as TFLite reports it (0 for unquantized tensors; the first channel's otherwise). */
  public float inputScale(int i) {
    checkOpen();
    return interpreter.getInputTensor(i).quantizationParams().getScale();
  }

  public int inputZeroPoint(int i) {
    checkOpen();
    return interpreter.getInputTensor(i).quantizationParams().getZeroPoint();
  }

  public float outputScale(int o) {
    checkOpen();
    return interpreter.getOutputTensor(o).quantizationParams().getScale();
  }

  public int outputZeroPoint(int o) {
    checkOpen();
    return interpreter.getOutputTensor(o).quantizationParams().getZeroPoint();
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      interpreter.close();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("TfliteRuntime is closed");
    }
  }

  /** Copies a flat primitive array into the input's buffer, checking type and element count. */
  private static void fill(Tensor t, Object array, ByteBuffer buffer, String label) {
    DataType type = t.dataType();
    int n = t.numElements();
    String expected = javaArrayName(type);
    if (array instanceof float[] a && type == DataType.FLOAT32) {
      check(a.length, n, t, label);
      buffer.asFloatBuffer().put(a);
    } else if (array instanceof byte[] a && (type == DataType.INT8 || type == DataType.UINT8)) {
      check(a.length, n, t, label);
      buffer.put(a);
    } else if (array instanceof short[] a && type == DataType.INT16) {
      check(a.length, n, t, label);
      buffer.asShortBuffer().put(a);
    } else if (array instanceof int[] a && type == DataType.INT32) {
      check(a.length, n, t, label);
      buffer.asIntBuffer().put(a);
    } else if (array instanceof long[] a && type == DataType.INT64) {
      check(a.length, n, t, label);
      buffer.asLongBuffer().put(a);
    } else {
      throw new IllegalArgumentException(label + " ('" + t.name() + "') is " + type + " " + Arrays.toString(t.shape())
          + " and takes a " + expected + ", got " + (array == null ? "null" : array.getClass().getSimpleName()));
    }
    buffer.rewind();
  }

  private static void check(int length, int n, Tensor t, String label) {
    if (length != n) {
      throw new IllegalArgumentException(label + " ('" + t.name() + "') has shape " + Arrays.toString(t.shape())
          + " = " + n + " elements, got an array of " + length);
    }
  }

  private static Object fromBuffer(Tensor t, ByteBuffer buffer) {
    buffer.rewind();
    int n = t.numElements();
    switch (t.dataType()) {
      case FLOAT32 -> {
        float[] a = new float[n];
        buffer.asFloatBuffer().get(a);
        return a;
      }
      case INT8, UINT8 -> {
        byte[] a = new byte[n];
        buffer.get(a);
        return a;
      }
      case INT16 -> {
        short[] a = new short[n];
        buffer.asShortBuffer().get(a);
        return a;
      }
      case INT32 -> {
        int[] a = new int[n];
        buffer.asIntBuffer().get(a);
        return a;
      }
      case INT64 -> {
        long[] a = new long[n];
        buffer.asLongBuffer().get(a);
        return a;
      }
      default -> throw new TfliteRuntimeException("Output '" + t.name() + "' has type " + t.dataType()
          + ", which TfliteRuntime does not return");
    }
  }

  private static String javaArrayName(DataType type) {
    return switch (type) {
      case FLOAT32 -> "float[]";
      case INT8, UINT8 -> "byte[]";
      case INT16 -> "short[]";
      case INT32 -> "int[]";
      case INT64 -> "long[]";
      default -> "(unsupported " + type + ")";
    };
  }

  private static TensorType toTensorType(DataType type) {
    return switch (type) {
      case FLOAT32 -> TensorType.FLOAT32;
      case INT8 -> TensorType.INT8;
      case UINT8 -> TensorType.UINT8;
      case INT16 -> TensorType.INT16;
      case INT32 -> TensorType.INT32;
      case INT64 -> TensorType.INT64;
      case BOOL -> TensorType.BOOL;
      default -> throw new TfliteRuntimeException("TFLite tensor type " + type + " has no SparkQuant TensorType");
    };
  }
}
