package io.sparkquant.ops.interp;

import io.sparkquant.ops.tflite.InvalidModelException;
import io.sparkquant.ops.tflite.ModelCheck;
import io.sparkquant.ops.tflite.TfliteOperator;
import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * One operator after prepare: multipliers, lookup tables and constants resolved. {@link #outputShape} checks the
 * input shapes and gives the output's (TFLite's Prepare resizes the output the same way): the interpreter calls it
 * once at construction on the declared shapes, so a model whose shapes do not fit is refused before it runs, and
 * {@link #eval} calls it again on every run's shapes (the batch may differ). {@link #compute} then only reads its
 * inputs from {@code values} (by tensor index) and returns the output array. Immutable, so one instance serves
 * every run and thread.
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

  /** The output shape for the input shapes in {@code shapes}; throws InvalidModelException when they do not fit. */
  abstract int[] outputShape(int[][] shapes);

  /** The output values, of {@code outShape}, from the inputs in {@code values}. */
  abstract Object compute(Object[] values, int[][] shapes, int[] outShape);

  final void eval(Object[] values, int[][] shapes) {
    int[] outShape = outputShape(shapes);
    values[outputs[0]] = compute(values, shapes, outShape);
    shapes[outputs[0]] = outShape;
  }

  /** The element count of a shape; refuses counts no Java array can hold (the int product would wrap). */
  static int elements(int[] shape) {
    long n = 1;
    for (int d : shape) {
      n *= d;
      if (n > ModelCheck.MAX_ELEMENTS) {
        throw new InvalidModelException("shape " + Arrays.toString(shape) + " has more than "
            + ModelCheck.MAX_ELEMENTS + " elements");
      }
    }
    return (int) n;
  }

  /** An elementwise operator: the output has the input's shape, {@code kernel} maps input array to output array. */
  static PreparedOp elementwise(TfliteOperator op, UnaryOperator<Object> kernel) {
    return new PreparedOp(op) {
      @Override
      int[] outputShape(int[][] shapes) {
        return shapes[inputs[0]];
      }

      @Override
      Object compute(Object[] values, int[][] shapes, int[] outShape) {
        return kernel.apply(values[inputs[0]]);
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
    int[] outputShape(int[][] shapes) {
      return shapes[inputs[0]];
    }

    @Override
    Object compute(Object[] values, int[][] shapes, int[] outShape) {
      throw new IllegalStateException(name + " was folded into a constant at prepare time");
    }
  }
}
