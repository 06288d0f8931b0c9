package io.sparkquant.jobs.eval;

import io.sparkquant.data.Layout;
import io.sparkquant.ops.interp.FloatIo;
import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.Arrays;

/**
 * Scores with a .tflite model (one float, int8 or int16 input; one output of class probabilities), run by the
 * Java {@link Interpreter} or the real {@link TfliteRuntime}. Float features are quantized with the input
 * tensor's scale and zero point when the model takes integers, and integer outputs are dequantized, exactly as
 * the model's own QUANTIZE/DEQUANTIZE ops would ({@link FloatIo}). A rank-4 input is NHWC, which the dataset's
 * HWC rows give directly; a rank-2 input takes flat rows. Any batch size runs: the Java interpreter takes the
 * batch from the input, the TFLite runtime is resized when the batch size changes.
 */
public final class TflitePredictor implements Predictor {

  private final byte[] modelBytes;
  private final TfliteModel model;
  private final TfliteEngine engine;
  private final Layout layout;
  private final int featureLength;
  private final int numClasses;
  /** Immutable and thread-safe: shared by every copy. */
  private final Interpreter interpreter;
  /** Not thread-safe: each copy opens its own (TFLITE only). */
  private TfliteRuntime runtime;
  private int runtimeBatch = -1;

  private TflitePredictor(byte[] modelBytes, TfliteModel model, TfliteEngine engine, Interpreter interpreter,
      String name) {
    this.modelBytes = modelBytes;
    this.model = model;
    this.engine = engine;
    this.interpreter = interpreter;
    if (model.inputs().length != 1 || model.outputs().length != 1) {
      throw new IllegalArgumentException("Model " + name + " has " + model.inputs().length + " inputs and "
          + model.outputs().length + " outputs; evaluation needs exactly one of each");
    }
    TfliteTensor in = input();
    int[] inShape = in.shape();
    this.layout = switch (inShape.length) {
      case 4 -> Layout.NHWC;
      case 2 -> Layout.FLAT;
      default -> throw new IllegalArgumentException("Model " + name + ": input '" + in.name() + "' has shape "
          + Arrays.toString(inShape) + "; evaluation takes [batch, H, W, C] images or [batch, features] rows");
    };
    this.featureLength = in.elementCount() / inShape[0];
    int[] outShape = output().shape();
    if (outShape.length != 2) {
      throw new IllegalArgumentException("Model " + name + ": output '" + output().name() + "' has shape "
          + Arrays.toString(outShape) + "; evaluation needs [batch, classes] probabilities");
    }
    this.numClasses = outShape[1];
    for (TfliteTensor t : new TfliteTensor[] {in, output()}) {
      switch (t.type()) {
        case FLOAT32, INT8, INT16 -> { }
        default -> throw new IllegalArgumentException("Model " + name + ": tensor '" + t.name() + "' is "
            + t.type() + "; model input and output must be FLOAT32, INT8 or INT16");
      }
    }
  }

  /**
   * Parses the flatbuffer and prepares the Java interpreter (for {@code JAVA}; a {@code TFLITE} predictor opens
   * the native runtime). {@code name} only appears in error messages.
   */
  public static TflitePredictor fromBytes(byte[] modelBytes, String name, TfliteEngine engine) {
    TfliteModel model;
    try {
      model = TfliteReader.read(modelBytes);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Model " + name + " is not a readable .tflite flatbuffer: "
          + e.getMessage(), e);
    }
    Interpreter interpreter = null;
    try {
      // the verifier for both engines: a damaged shape or stride could crash the native runtime's JVM
      Interpreter verified = new Interpreter(model);
      interpreter = engine == TfliteEngine.JAVA ? verified : null;
    } catch (InvalidModelException e) {
      if (engine == TfliteEngine.JAVA || e.kind() == InvalidModelException.Kind.INVALID) {
        throw new InvalidModelException(e.kind(), "Model " + name + (e.kind() == InvalidModelException.Kind.INVALID
            ? " is not a valid TFLite model: " : ": the Java interpreter cannot run it: ") + e.getMessage(), e);
      }
    }
    TflitePredictor p = new TflitePredictor(modelBytes, model, engine, interpreter, name);
    if (engine == TfliteEngine.TFLITE) {
      p.runtime = TfliteRuntime.create(modelBytes, 1);
    }
    return p;
  }

  public TfliteEngine engine() {
    return engine;
  }

  public TfliteModel model() {
    return model;
  }

  private TfliteTensor input() {
    return model.tensor(model.inputs()[0]);
  }

  private TfliteTensor output() {
    return model.tensor(model.outputs()[0]);
  }

  @Override
  public Layout layout() {
    return layout;
  }

  @Override
  public float[][] predict(float[] x, long[] shape) {
    int batch = (int) shape[0];
    if (x.length != batch * featureLength) {
      throw new IllegalArgumentException("Model input '" + input().name() + "' takes " + featureLength
          + " values per row, the batch has " + x.length / Math.max(batch, 1) + " (shape "
          + Arrays.toString(shape) + ")");
    }
    Object in = FloatIo.fromFloats(input(), x);
    Object out;
    if (engine == TfliteEngine.JAVA) {
      out = interpreter.run(in)[0];
    } else {
      if (batch != runtimeBatch) {
        runtime.resizeBatch(batch);
        runtimeBatch = batch;
      }
      out = runtime.run(in)[0];
    }
    float[] p = FloatIo.toFloats(output(), out);
    float[][] rows = new float[batch][numClasses];
    for (int i = 0; i < batch; i++) {
      System.arraycopy(p, i * numClasses, rows[i], 0, numClasses);
    }
    return rows;
  }

  @Override
  public TflitePredictor copy() {
    TflitePredictor p = new TflitePredictor(modelBytes, model, engine, interpreter, "copy");
    if (engine == TfliteEngine.TFLITE) {
      p.runtime = TfliteRuntime.create(modelBytes, 1);
    }
    return p;
  }
}
