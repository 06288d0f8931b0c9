package io.sparkquant.ops.interp;

import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteWriter;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteRuntime;
import java.util.Arrays;

/**
 * Java interpreter vs the TFLite 2.6.2 native runtime on the same int8 CNN ({@link TestCnn}: conv 3x3x16,
 * pool, conv 3x3x32, pool, FC 10, softmax) and the same images, one thread each, one image per call and
 * batches of 32; images/s by wall clock and per CPU-second of the running thread (the fair figure on a
 * shared machine). Run:
 * <pre>
 * mvn -o -q -B -pl quant-ops test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
 * java -cp quant-ops/target/test-classes:quant-ops/target/classes:$(cat quant-ops/target/test-classpath.txt) \
 *     io.sparkquant.ops.interp.InterpreterBenchmark 1000
 * </pre>
 */
public final class InterpreterBenchmark {

  private InterpreterBenchmark() {}

  public static void main(String[] args) {
    int images = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    TfliteModel model = TestCnn.build(42, 1, false);
    byte[] bytes = TfliteWriter.write(model);
    float[] x = TestCnn.images(43, images);
    byte[] q = new byte[x.length];
    for (int i = 0; i < x.length; i++) {
      q[i] = (byte) (Math.round(x[i] * 255) - 128);
    }
    Interpreter interpreter = new Interpreter(TfliteReader.read(bytes));
    System.out.printf("TFLite runtime %s, %d images of 28x28x1, 1 thread, int8 CNN (%d operators)%n",
        TfliteRuntime.runtimeVersion(), images, model.operators().size());
    // per-call overhead of each engine, on a model that does almost nothing (one int8 RESHAPE of the image)
    TfliteModel trivial = io.sparkquant.ops.tflite.TfliteTestModels.singleOp(io.sparkquant.ops.tflite.BuiltinOp.RESHAPE,
            1, new io.sparkquant.ops.tflite.OperatorOptions.ReshapeParams(new int[] {1, 784}))
        .input("x", io.sparkquant.ops.tflite.TensorType.INT8, new int[] {1, 28, 28, 1}, Judge.q(1f / 255, -128))
        .constant(io.sparkquant.ops.tflite.TfliteTensor.constantInt32("s", new int[] {2}, new int[] {1, 784}, null))
        .output("y", io.sparkquant.ops.tflite.TensorType.INT8, new int[] {1, 784}, Judge.q(1f / 255, -128)).build();
    byte[] trivialBytes = TfliteWriter.write(trivial);
    Interpreter trivialJava = new Interpreter(trivial);
    double[] javaCall = null;
    double[] tfliteCall = null;
    for (int round = 0; round < 2; round++) {
      javaCall = rate(images, 1, q, chunk -> trivialJava.run((Object) chunk));
      try (TfliteRuntime rt = TfliteRuntime.create(trivialBytes, 1)) {
        tfliteCall = rate(images, 1, q, chunk -> rt.run((Object) chunk));
      }
    }
    System.out.printf("per-call overhead (1-op RESHAPE model): java %.1f us, tflite %.1f us of CPU%n",
        1e6 / javaCall[1], 1e6 / tfliteCall[1]);
    for (int batch : new int[] {1, 32}) {
      double[] javaRate = null;
      double[] tfliteRate = null;
      for (int round = 0; round < 3; round++) { // round 0 warms up the JIT and caches
        javaRate = rate(images, batch, q, chunk -> interpreter.run((Object) chunk));
        try (TfliteRuntime rt = TfliteRuntime.create(bytes, 1)) {
          if (batch != 1) {
            rt.resizeBatch(batch);
          }
          tfliteRate = rate(images, batch, q, chunk -> rt.run((Object) chunk));
        }
      }
      System.out.printf("batch %2d: java %7.0f images/s (%7.0f per CPU-second), tflite %7.0f images/s (%7.0f per "
          + "CPU-second); java/tflite = %.2f wall, %.2f CPU%n", batch, javaRate[0], javaRate[1], tfliteRate[0],
          tfliteRate[1], javaRate[0] / tfliteRate[0], javaRate[1] / tfliteRate[1]);
    }
  }

  /** Images per wall-clock second and per CPU-second of this thread (robust on a shared machine). */
  private static double[] rate(int images, int batch, byte[] q, java.util.function.Consumer<byte[]> run) {
    java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
    int calls = images / batch;
    long start = System.nanoTime();
    long cpuStart = threads.getCurrentThreadCpuTime();
    for (int c = 0; c < calls; c++) {
      run.accept(Arrays.copyOfRange(q, c * batch * 784, (c + 1) * batch * 784));
    }
    double n = calls * batch;
    return new double[] {n / ((System.nanoTime() - start) / 1e9),
        n / ((threads.getCurrentThreadCpuTime() - cpuStart) / 1e9)};
  }
}
