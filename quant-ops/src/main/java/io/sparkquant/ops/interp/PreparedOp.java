package io.sparkquant.ops.interp;

import io.sparkquant.ops.tflite.TfliteOperator;
import java.util.function.UnaryOperator;

/**
 * One operator after prepare: multipliers, lookup tables and constants resolved, so {@link #eval} only
 * reads its inputs from {@code values}/{@code shapes} (by tensor index) and writes its outputs there.
 * Immutable, so one instance serves every run and thread.
 */
abstract class PreparedOp {
  final String name;
  final int[] inputs;
  final int[] outputs;

  PreparedOp(TfliteOperator op) {
    this.name = op.opName();
    this.inputs = op.inputs();
    this.outputs = op.outputs();
  }

  abstract void eval(Object[] values, int[][] shapes);

  static int elements(int[] shape) {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** An elementwise operator: the output has the input's shape, {@code kernel} maps input array to output array. */
  static PreparedOp elementwise(TfliteOperator op, UnaryOperator<Object> kernel) {
    return new PreparedOp(op) {
      @Override
      void eval(Object[] values, int[][] shapes) {
        values[outputs[0]] = kernel.apply(values[inputs[0]]);
        shapes[outputs[0]] = shapes[inputs[0]];
      }
    };
  }

  /** An operator computed once at prepare time (DEQUANTIZE of a constant): its output is a constant. */
  static final class Folded extends PreparedOp {
    final Object value;

    Folded(TfliteOperator op, Object value) {
      super(op);
      this.value = value;
    }

    @Override
    void eval(Object[] values, int[][] shapes) {
      throw new IllegalStateException(name + " was folded into a constant at prepare time");
    }
  }
}
