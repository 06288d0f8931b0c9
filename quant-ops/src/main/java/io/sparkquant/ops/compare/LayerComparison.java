package io.sparkquant.ops.compare;

import io.sparkquant.ops.interp.FloatIo;
import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.interp.TensorValue;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteOperator;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a reference model (usually the float32 export) and a quantized model of the same graph on the same input
 * and compares every activation tensor that has the same name in both (the exporter names tensors after the
 * graph in every mode), in the reference model's execution order. Integer tensors are dequantized with their
 * scale and zero point ({@link FloatIo}). Constants (weights, and float16 weights dequantized at load) are not
 * compared. Immutable and thread-safe: both interpreters are.
 */
public final class LayerComparison {

  /** One compared tensor: its name, indices in both models, and the quantized model's writer op. */
  public record Pair(String name, int referenceIndex, int quantizedIndex, String op) {}

  private final Interpreter reference;
  private final Interpreter quantized;
  private final List<Pair> pairs;

  private LayerComparison(Interpreter reference, Interpreter quantized, List<Pair> pairs) {
    this.reference = reference;
    this.quantized = quantized;
    this.pairs = List.copyOf(pairs);
  }

  /**
   * Matches tensors by name. Both models need one input of the same shape; the reference input must be FLOAT32.
   *
   * @throws IllegalArgumentException if the inputs differ, a matched tensor's shape differs, or nothing matches
   */
  public static LayerComparison of(TfliteModel referenceModel, TfliteModel quantizedModel) {
    Interpreter ref = new Interpreter(referenceModel);
    Interpreter q = new Interpreter(quantizedModel);
    if (ref.inputCount() != 1 || q.inputCount() != 1) {
      throw new IllegalArgumentException("layer comparison needs single-input models; reference has "
          + ref.inputCount() + ", quantized " + q.inputCount());
    }
    TfliteTensor refIn = ref.inputTensor(0);
    if (refIn.type() != TensorType.FLOAT32) {
      throw new IllegalArgumentException("the reference model's input '" + refIn.name() + "' is " + refIn.type()
          + "; the reference must be a float model (e.g. the float32 export)");
    }
    if (!Arrays.equals(tail(refIn.shape()), tail(q.inputTensor(0).shape()))) {
      throw new IllegalArgumentException("model inputs differ: reference " + Arrays.toString(refIn.shape())
          + ", quantized " + Arrays.toString(q.inputTensor(0).shape()));
    }
    Map<String, Integer> quantizedByName = new HashMap<>();
    Map<Integer, String> writer = new HashMap<>();
    List<TfliteTensor> qTensors = quantizedModel.tensors();
    for (int i = 0; i < qTensors.size(); i++) {
      quantizedByName.putIfAbsent(qTensors.get(i).name(), i);
    }
    for (TfliteOperator op : quantizedModel.operators()) {
      for (int o : op.outputs()) {
        writer.put(o, op.opName());
      }
    }
    for (int i : quantizedModel.inputs()) {
      writer.put(i, "input");
    }
    List<Pair> pairs = new ArrayList<>();
    for (int r : activationOrder(referenceModel)) {
      TfliteTensor rt = referenceModel.tensor(r);
      Integer qi = quantizedByName.get(rt.name());
      if (qi == null || !writer.containsKey(qi) || isFoldedConstant(quantizedModel, qi)) {
        continue;
      }
      TfliteTensor qt = quantizedModel.tensor(qi);
      if (!comparable(rt.type()) || !comparable(qt.type())) {
        continue;
      }
      if (!Arrays.equals(tail(rt.shape()), tail(qt.shape()))) {
        throw new IllegalArgumentException("tensor '" + rt.name() + "' has shape " + Arrays.toString(rt.shape())
            + " in the reference and " + Arrays.toString(qt.shape()) + " in the quantized model");
      }
      pairs.add(new Pair(rt.name(), r, qi, writer.get(qi)));
    }
    if (pairs.isEmpty()) {
      throw new IllegalArgumentException("the models have no activation tensor with the same name; were both "
          + "exported from the same graph?");
    }
    return new LayerComparison(ref, q, pairs);
  }

  /** The compared tensors in the reference model's execution order. */
  public List<Pair> tensors() {
    return pairs;
  }

  /** Runs both models on a float batch ({@code [batch, ...input shape]} row-major) and adds into {@code stats}. */
  public void observe(float[] input, int batch, TensorErrorStats stats) {
    if (stats.tensorCount() != pairs.size()) {
      throw new IllegalArgumentException("statistics for " + stats.tensorCount() + " tensors, comparison has "
          + pairs.size());
    }
    TensorValue[] refAll = reference.runAll(inputTensor(reference, input, batch));
    TensorValue[] qAll = quantized.runAll(inputTensor(quantized, input, batch));
    for (int k = 0; k < pairs.size(); k++) {
      Pair p = pairs.get(k);
      float[] r = FloatIo.toFloats(reference.model().tensor(p.referenceIndex()), refAll[p.referenceIndex()].data());
      float[] q = FloatIo.toFloats(quantized.model().tensor(p.quantizedIndex()), qAll[p.quantizedIndex()].data());
      try {
        stats.add(k, r, q);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("tensor '" + p.name() + "': " + e.getMessage(), e);
      }
    }
    stats.addRows(batch);
  }

  /** Per-tensor errors from merged statistics, in {@link #tensors()} order. */
  public List<LayerError> result(TensorErrorStats stats) {
    List<LayerError> out = new ArrayList<>();
    for (int k = 0; k < pairs.size(); k++) {
      Pair p = pairs.get(k);
      long n = stats.count(k);
      double ref2 = stats.sumReferenceSquared(k);
      double err2 = stats.sumErrorSquared(k);
      Double sqnr = err2 == 0 ? null : 10 * Math.log10(ref2 / err2);
      out.add(new LayerError(p.name(), p.op(), quantized.model().tensor(p.quantizedIndex()).type().name(), n, sqnr,
          stats.maxAbsError(k), n == 0 ? 0 : Math.sqrt(err2 / n), n == 0 ? 0 : Math.sqrt(ref2 / n), ref2, err2));
    }
    return out;
  }

  /** The float input shape of a batch ({@code [batch, ...]}). */
  public int[] inputShape(int batch) {
    int[] s = reference.inputTensor(0).shape();
    s[0] = batch;
    return s;
  }

  private static TensorValue inputTensor(Interpreter interp, float[] input, int batch) {
    TfliteTensor t = interp.inputTensor(0);
    int[] shape = t.shape();
    shape[0] = batch;
    return new TensorValue(t.type(), shape, FloatIo.fromFloats(t, input));
  }

  /** The model input, then every operator output in operator order. */
  private static List<Integer> activationOrder(TfliteModel m) {
    List<Integer> order = new ArrayList<>();
    for (int i : m.inputs()) {
      order.add(i);
    }
    for (TfliteOperator op : m.operators()) {
      if (isFoldedConstant(m, op.outputs()[0])) {
        continue;
      }
      for (int o : op.outputs()) {
        if (!order.contains(o)) {
          order.add(o);
        }
      }
    }
    return order;
  }

  /** True for a tensor with data, or written by an operator all of whose inputs are constants (float16 weights). */
  private static boolean isFoldedConstant(TfliteModel m, int tensor) {
    if (m.tensor(tensor).isConstant()) {
      return true;
    }
    for (TfliteOperator op : m.operators()) {
      if (Arrays.stream(op.outputs()).anyMatch(o -> o == tensor)) {
        return Arrays.stream(op.inputs()).allMatch(i -> i < 0 || m.tensor(i).isConstant());
      }
    }
    return false;
  }

  private static boolean comparable(TensorType t) {
    return t == TensorType.FLOAT32 || t == TensorType.INT8 || t == TensorType.INT16;
  }

  private static int[] tail(int[] shape) {
    return shape.length == 0 ? shape : Arrays.copyOfRange(shape, 1, shape.length);
  }
}
