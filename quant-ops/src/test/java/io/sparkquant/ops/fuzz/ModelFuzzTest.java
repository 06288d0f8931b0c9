package io.sparkquant.ops.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparkquant.ops.interp.BuiltinOpResolver;
import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.interp.TensorValue;
import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteModelSummary;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The .tflite path of {@code inspect}, {@code run} and {@code evaluate}: read, summarize (the verifier), build the
 * interpreter (verifier + every op's prepare) and, when it is accepted, run it once on a seeded input of the
 * declared shapes. The only accepted failure is {@link InvalidModelException} with a one-line message.
 */
class ModelFuzzTest {

  /**
   * Models whose one run would allocate more than this are verified but not run: a valid model may need any
   * amount of memory and time, which is not a finding; the bound keeps every run in the corpus fast.
   */
  private static final long MAX_RUN_BYTES = 4L << 20;

  @FuzzTest(maxDuration = "10s")
  void readVerifyRun(byte[] bytes) {
    try {
      TfliteModel model = TfliteReader.read(bytes);
      TfliteModelSummary.of(model, bytes.length, BuiltinOpResolver.INSTANCE);
      Interpreter interpreter = new Interpreter(model);
      if (interpreter.activationBytes() > MAX_RUN_BYTES) {
        return;
      }
      interpreter.run(seededInputs(model, Arrays.hashCode(bytes)));
    } catch (InvalidModelException e) {
      FuzzChecks.assertOneLine(e);
    }
  }

  private static TensorValue[] seededInputs(TfliteModel model, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    TensorValue[] in = new TensorValue[model.inputs().length];
    for (int k = 0; k < in.length; k++) {
      TfliteTensor t = model.tensor(model.inputs()[k]);
      int n = t.elementCount();
      Object data = switch (t.type()) {
        case FLOAT32 -> {
          float[] a = new float[n];
          for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
          }
          yield a;
        }
        case INT8, UINT8, BOOL -> {
          byte[] a = new byte[n];
          rnd.nextBytes(a);
          yield a;
        }
        case INT16, FLOAT16 -> {
          short[] a = new short[n];
          for (int i = 0; i < n; i++) {
            a[i] = (short) rnd.nextInt();
          }
          yield a;
        }
        case INT32 -> rnd.ints(n).toArray();
        case INT64 -> rnd.longs(n).toArray();
      };
      in[k] = new TensorValue(t.type(), t.shape(), data);
    }
    return in;
  }
}
