/**
 * A pure-Java TFLite interpreter for SparkQuant's op set, bit-exact with TFLite 2.6.2 on integer models.
 *
 * <pre>{@code
 * Interpreter interpreter = new Interpreter(TfliteReader.read(bytes)); // prepares every op once
 * Object[] out = interpreter.run((Object) int8Images);   // flat arrays, batch = length / per-sample size
 * TensorValue[] typed = interpreter.run(TensorValue.ofFloat(new int[] {n, 28, 28, 1}, images));
 * TensorValue[] all = interpreter.runAll(input);         // every tensor by index (constants read-only)
 * int conv1 = interpreter.tensorIndex("conv1");
 * }</pre>
 *
 * <p>The op table is {@link io.sparkquant.ops.interp.BuiltinOpResolver}, as TFLite's register.cc: one
 * registration per op (versions, options, type combinations, prepare), each op's prepare/eval glue in its
 * own class named after the op ({@code ConvOp}, {@code FullyConnectedOp}, {@code ReluOp}, ...) over the
 * kernel of the same name. The interpreter's supported set, {@link io.sparkquant.ops.tflite.ModelCheck}'s
 * options and version check and the model summary's versions all read it.
 *
 * <p>One instance is immutable and thread-safe: share it across the tasks of an executor. Which TFLite
 * code path each operator follows (and the two places where TFLite 2.6.2's x86 build differs from its
 * reference kernels: ruy's single-rounding multiplier for int8 CONV_2D/FULLY_CONNECTED, and QUANTIZE
 * dividing in double) is documented on the kernels in {@code io.sparkquant.ops.kernels}.
 * {@link io.sparkquant.ops.interp.NpyFile} reads and writes NumPy .npy files as {@link
 * io.sparkquant.ops.interp.TensorValue}s.
 */
package io.sparkquant.ops.interp;
