package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.Judge.floats;
import static io.sparkquant.ops.interp.Judge.int16s;
import static io.sparkquant.ops.interp.Judge.int32s;
import static io.sparkquant.ops.interp.Judge.int8s;
import static io.sparkquant.ops.interp.Judge.q;
import static io.sparkquant.ops.interp.SubVsTfliteTest.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.kernels.StridedSlice;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteQuantization;
import io.sparkquant.ops.tflite.TfliteRuntime;
import io.sparkquant.ops.tflite.TfliteWriter;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteTestModels;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * STRIDED_SLICE: random 1-D to 5-D slices with negative and out-of-range indices, negative strides, begin/end masks
 * and shrink_axis_mask, TFLite 2.6.2 against {@link Interpreter}; every output element equal.
 */
class StridedSliceVsTfliteTest {

  private static TfliteModel slice(TensorType type, TfliteQuantization q, int[] shape, int[] begin, int[] end,
      int[] strides, OperatorOptions.StridedSliceParams o, int[] outShape) {
    int r = begin.length;
    return TfliteTestModels.singleOp(BuiltinOp.STRIDED_SLICE, type == TensorType.INT16 ? 5 : 2, o)
        .input("x", type, shape, q)
        .constant(TfliteTensor.constantInt32("begin", new int[] {r}, begin, null))
        .constant(TfliteTensor.constantInt32("end", new int[] {r}, end, null))
        .constant(TfliteTensor.constantInt32("strides", new int[] {r}, strides, null))
        .output("y", type, outShape, q).build();
  }

  @Test
  void stridedSliceMatchesTheRuntimeWithMasksNegativeIndicesAndStrides() {
    int checked = 0;
    int empty = 0;
    for (int seed = 0; checked < 60; seed++) {
      SplittableRandom rnd = new SplittableRandom(24000 + seed);
      int rank = rnd.nextInt(1, 6);
      int[] shape = new int[rank];
      int[] begin = new int[rank];
      int[] end = new int[rank];
      int[] strides = new int[rank];
      int beginMask = 0;
      int endMask = 0;
      int shrinkMask = 0;
      for (int a = 0; a < rank; a++) {
        shape[a] = rnd.nextInt(1, 7);
        strides[a] = rnd.nextInt(1, 4) * (rnd.nextInt(4) == 0 ? -1 : 1);
        begin[a] = rnd.nextInt(-shape[a] - 2, shape[a] + 3);
        end[a] = rnd.nextInt(-shape[a] - 2, shape[a] + 3);
        beginMask |= rnd.nextInt(4) == 0 ? 1 << a : 0;
        endMask |= rnd.nextInt(4) == 0 ? 1 << a : 0;
        if (rnd.nextInt(5) == 0) { // shrink: an in-range begin, as TF writes x[..., i, ...]
          shrinkMask |= 1 << a;
          begin[a] = rnd.nextInt(-shape[a], shape[a]);
          end[a] = begin[a] + 1;
          strides[a] = 1;
          beginMask &= ~(1 << a);
          endMask &= ~(1 << a);
        }
      }
      StridedSlice.Plan plan = StridedSlice.plan(shape, begin, end, strides, beginMask, endMask, shrinkMask);
      OperatorOptions.StridedSliceParams o =
          new OperatorOptions.StridedSliceParams(beginMask, endMask, 0, 0, shrinkMask, false);
      if (Judge.product(plan.outputShape()) == 0) {
        // the interpreter refuses zero-size tensors; the runtime must agree that the slice is empty
        // (its Java API cannot read a zero-size output: compare the shape its Prepare resized the output to)
        try (TfliteRuntime rt = TfliteRuntime.create(TfliteWriter.write(slice(TensorType.FLOAT32, null, shape, begin,
            end, strides, o, plan.outputShape())), 1)) {
          assertArrayEquals(plan.outputShape(), rt.outputShape(0), "empty slice, seed " + seed);
        }
        empty++;
        continue;
      }
      checked++;
      String ctx = "seed " + seed + " shape " + Arrays.toString(shape) + " begin " + Arrays.toString(begin) + " end "
          + Arrays.toString(end) + " strides " + Arrays.toString(strides) + " masks " + beginMask + "/" + endMask
          + "/" + shrinkMask;
      int n = Judge.product(shape);
      int[] out = plan.outputShape();
      Judge.check(ctx + " int8", slice(TensorType.INT8, q(0.05f, 3), shape, begin, end, strides, o, out),
          int8s(rnd, n, -128, 127));
      Judge.check(ctx + " int16", slice(TensorType.INT16, q(1e-3f, 0), shape, begin, end, strides, o, out),
          int16s(rnd, n, -32768, 32767));
      Judge.check(ctx + " int32", slice(TensorType.INT32, null, shape, begin, end, strides, o, out),
          int32s(rnd, n, -100000, 100000));
      Judge.check(ctx + " float", slice(TensorType.FLOAT32, null, shape, begin, end, strides, o, out),
          floats(rnd, n, -4, 4));
    }
    assertTrue(empty > 5, "empty slices seen: " + empty);
  }

  @Test
  void prepareRefusesBadParametersNamingTheOperator() {
    int[] shape = {2, 3};
    OperatorOptions.StridedSliceParams plain = new OperatorOptions.StridedSliceParams(0, 0, 0, 0, 0, false);
    assertRefused(slice(TensorType.INT8, q(0.1f, 0), shape, new int[] {0, 0}, new int[] {2, 3}, new int[] {1, 0},
        plain, shape), "operator 0 (STRIDED_SLICE)", "stride value has to be non-zero");
    assertRefused(slice(TensorType.INT8, q(0.1f, 0), shape, new int[] {0, 0}, new int[] {2, 3}, new int[] {1, 1},
        new OperatorOptions.StridedSliceParams(0, 0, 1, 0, 0, false), shape), "operator 0 (STRIDED_SLICE)",
        "ellipsis_mask");
    assertRefused(slice(TensorType.INT8, q(0.1f, 0), shape, new int[] {0, 0}, new int[] {2, 3}, new int[] {1, 1},
        new OperatorOptions.StridedSliceParams(0, 0, 0, 2, 0, false), shape), "operator 0 (STRIDED_SLICE)",
        "new_axis_mask");
    assertRefused(slice(TensorType.INT8, q(0.1f, 0), shape, new int[] {0, 0}, new int[] {2, 3}, new int[] {1, 1},
        new OperatorOptions.StridedSliceParams(0, 0, 0, 0, 0, true), shape), "operator 0 (STRIDED_SLICE)",
        "offset");
    assertRefused(slice(TensorType.INT8, q(0.1f, 0), shape, new int[] {0}, new int[] {2}, new int[] {1},
        plain, shape), "operator 0 (STRIDED_SLICE)", "expected one per input axis (2)");
    assertRefused(slice(TensorType.INT8, q(0.1f, 0), shape, new int[] {0, 5}, new int[] {2, 6}, new int[] {1, 1},
        new OperatorOptions.StridedSliceParams(0, 0, 0, 0, 2, false), new int[] {2}), "operator 0 (STRIDED_SLICE)",
        "shrunk axis 1 begins at 5");
    assertRefused(slice(TensorType.INT8, q(0.1f, 0), shape, new int[] {0, 0}, new int[] {2, 3}, new int[] {1, 1},
        new OperatorOptions.StridedSliceParams(4, 0, 0, 0, 0, false), shape), "operator 0 (STRIDED_SLICE)",
        "beyond rank 2");
  }
}
