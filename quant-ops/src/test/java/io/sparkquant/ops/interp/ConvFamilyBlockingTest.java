package io.sparkquant.ops.interp;

import static io.sparkquant.ops.interp.Judge.biasQuantization;
import static io.sparkquant.ops.interp.Judge.floats;
import static io.sparkquant.ops.interp.Judge.int16s;
import static io.sparkquant.ops.interp.Judge.int32s;
import static io.sparkquant.ops.interp.Judge.int64s;
import static io.sparkquant.ops.interp.Judge.int8s;
import static io.sparkquant.ops.interp.Judge.logUniform;
import static io.sparkquant.ops.interp.Judge.perChannel;
import static io.sparkquant.ops.interp.Judge.q;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.kernels.Conv;
import io.sparkquant.ops.kernels.ConvGeometry;
import io.sparkquant.ops.kernels.FusedActivation;
import io.sparkquant.ops.kernels.Padding;
import io.sparkquant.ops.tflite.BuiltinOp;
import io.sparkquant.ops.tflite.OperatorOptions;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteTensor;
import io.sparkquant.ops.tflite.TfliteTestModels;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The edges of the blocked CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels: channel counts 1, 3, 7 and 64
 * (blocks of four output channels or rows, with remainders of 1 and 3), one row and several, odd sizes, strides,
 * dilations, SAME and VALID, depth multipliers above 1, pixel counts above one tile. Integer outputs must equal
 * TFLite 2.6.2's exactly; a float row's output must be the same bits alone and inside any batch.
 */
class ConvFamilyBlockingTest {

  private static final int[] CHANNELS = {1, 3, 7, 64};
  private static final int[] BATCHES = {1, 5};
  private static final FusedActivation[] ACTIVATIONS = {FusedActivation.NONE, FusedActivation.RELU, FusedActivation.RELU6};

  private record Geo(int h, int w, int kh, int kw, int stride, int dilation, Padding padding) {
    int outH() {
      return padding.outputSize(h, kh, stride, dilation);
    }

    int outW() {
      return padding.outputSize(w, kw, stride, dilation);
    }
  }

  /** Odd sizes, 1x1 to 3x3 windows, strides and dilations 1-2, both paddings; cycled through the channel grid. */
  private static final Geo[] GEOMETRIES = {
      new Geo(9, 7, 3, 3, 1, 1, Padding.SAME),
      new Geo(8, 11, 3, 2, 2, 1, Padding.VALID),
      new Geo(7, 9, 2, 3, 1, 2, Padding.SAME),
      new Geo(5, 5, 1, 1, 2, 1, Padding.VALID),
      new Geo(11, 6, 3, 3, 2, 2, Padding.SAME),
  };

  @Test
  void int8ConvIsBitExactForEveryChannelCountAndBatch() {
    int i = 0;
    for (int cin : CHANNELS) {
      for (int cout : CHANNELS) {
        for (int batch : BATCHES) {
          Geo g = GEOMETRIES[i % GEOMETRIES.length];
          int8Conv(new SplittableRandom(100 + i), g, batch, cin, cout, "conv int8 case " + i++);
        }
      }
    }
  }

  @Test
  void int8ConvIsBitExactOverSeveralPixelTiles() {
    // 1 channel: 3 * 59 * 59 output pixels against a tile of 7281; 64 channels: 4 * 15 * 15 against 113
    int8Conv(new SplittableRandom(7), new Geo(61, 61, 3, 3, 1, 1, Padding.VALID), 3, 1, 7, "conv int8 large 1->7");
    int8Conv(new SplittableRandom(8), new Geo(15, 15, 3, 3, 1, 1, Padding.SAME), 4, 64, 3, "conv int8 large 64->3");
  }

  /**
   * Batches that take CONV_2D's lanes path (rows side by side): exactly {@link Conv#MIN_LANES}, and sizes that leave a
   * smaller last group of rows (37 in groups of 16 to 34 rows; 70 in groups of up to 64).
   */
  private static final int[] LANE_BATCHES = {Conv.MIN_LANES, 37, 70};

  @Test
  void int8ConvIsBitExactOnTheLanesPathForEveryChannelCount() {
    int i = 0;
    for (int cin : CHANNELS) {
      for (int cout : CHANNELS) {
        Geo g = GEOMETRIES[i % GEOMETRIES.length];
        int batch = LANE_BATCHES[i % LANE_BATCHES.length];
        assertLanes(g, batch, cin, cout);
        int8Conv(new SplittableRandom(600 + i), g, batch, cin, cout, "conv int8 lanes case " + i++);
      }
    }
  }

  /** Fails unless the kernel takes the lanes path for this case, so that the tests above exercise it. */
  private static void assertLanes(Geo g, int batch, int cin, int cout) {
    ConvGeometry geometry = ConvGeometry.of(new int[] {batch, g.h, g.w, cin}, g.kh, g.kw, cout, g.padding, g.stride,
        g.stride, g.dilation, g.dilation);
    assertTrue(Conv.lanes(geometry, g.kh * g.kw * cin) > 0, g + " batch " + batch + " cin " + cin
        + " takes the im2col path");
  }

  private static void int8Conv(SplittableRandom rnd, Geo g, int batch, int cin, int cout, String context) {
    FusedActivation act = ACTIVATIONS[rnd.nextInt(ACTIVATIONS.length)];
    float inScale = logUniform(rnd, 0.005, 0.1);
    int inZp = rnd.nextInt(-100, 101);
    float[] fScales = new float[cout];
    for (int c = 0; c < cout; c++) {
      fScales[c] = logUniform(rnd, 0.001, 0.05);
    }
    int k = g.kh * g.kw * cin;
    float outScale = (float) (inScale * fScales[0] * Math.sqrt(k) * logUniform(rnd, 10, 100));
    int[] inShape = {batch, g.h, g.w, cin};
    TfliteModel model = TfliteTestModels.singleOp(BuiltinOp.CONV_2D, 3,
            new OperatorOptions.ConvParams(g.padding, g.stride, g.stride, act, g.dilation, g.dilation))
        .input("x", TensorType.INT8, inShape, q(inScale, inZp))
        .constant(TfliteTensor.constantBytes("w", TensorType.INT8, new int[] {cout, g.kh, g.kw, cin},
            int8s(rnd, cout * k, -127, 127), perChannel(fScales, 0)))
        .constant(TfliteTensor.constantInt32("b", new int[] {cout}, int32s(rnd, cout, -3000, 3000),
            biasQuantization(inScale, fScales)))
        .output("y", TensorType.INT8, new int[] {batch, g.outH(), g.outW(), cout}, q(outScale, rnd.nextInt(-50, 51)))
        .build();
    Judge.check(context + " " + g + " batch " + batch + " cin " + cin + " cout " + cout + " " + act, model,
        int8s(rnd, Judge.product(inShape), -128, 127));
  }

  @Test
  void int16x8ConvIsBitExactForEveryChannelCount() {
    int i = 0;
    for (int cin : CHANNELS) {
      for (int cout : CHANNELS) {
        SplittableRandom rnd = new SplittableRandom(200 + i);
        Geo g = GEOMETRIES[i++ % GEOMETRIES.length];
        int batch = BATCHES[i % BATCHES.length];
        float inScale = logUniform(rnd, 1e-4, 1e-3);
        float[] fScales = new float[cout];
        for (int c = 0; c < cout; c++) {
          fScales[c] = logUniform(rnd, 0.001, 0.05);
        }
        int k = g.kh * g.kw * cin;
        float outScale = (float) (inScale * fScales[0] * Math.sqrt(k) * logUniform(rnd, 1000, 30000));
        int[] inShape = {batch, g.h, g.w, cin};
        TfliteModel conv = TfliteTestModels.singleOp(BuiltinOp.CONV_2D, 4,
                new OperatorOptions.ConvParams(g.padding, g.stride, g.stride, FusedActivation.NONE, g.dilation,
                    g.dilation))
            .input("x", TensorType.INT16, inShape, q(inScale, 0))
            .constant(TfliteTensor.constantBytes("w", TensorType.INT8, new int[] {cout, g.kh, g.kw, cin},
                int8s(rnd, cout * k, -127, 127), perChannel(fScales, 0)))
            .constant(TfliteTensor.constantInt64("b", new int[] {cout}, int64s(rnd, cout, -300000, 300000),
                biasQuantization(inScale, fScales)))
            .output("y", TensorType.INT16, new int[] {batch, g.outH(), g.outW(), cout}, q(outScale, 0)).build();
        Judge.check("conv 16x8 " + g + " batch " + batch + " cin " + cin + " cout " + cout, conv,
            int16s(rnd, Judge.product(inShape), -32768, 32767));
      }
    }
  }

  @Test
  void int8DepthwiseIsBitExactForEveryChannelCountMultiplierAndBatch() {
    int i = 0;
    for (int cin : CHANNELS) {
      for (int mult : new int[] {1, 2, 3}) {
        for (int batch : BATCHES) {
          SplittableRandom rnd = new SplittableRandom(300 + i);
          Geo g = GEOMETRIES[i++ % GEOMETRIES.length];
          int cout = cin * mult;
          float inScale = logUniform(rnd, 0.005, 0.1);
          float[] fScales = new float[cout];
          for (int c = 0; c < cout; c++) {
            fScales[c] = logUniform(rnd, 0.001, 0.05);
          }
          float outScale = (float) (inScale * fScales[0] * Math.sqrt(g.kh * g.kw) * logUniform(rnd, 10, 100));
          int[] inShape = {batch, g.h, g.w, cin};
          TfliteModel model = TfliteTestModels.singleOp(BuiltinOp.DEPTHWISE_CONV_2D, 3,
                  new OperatorOptions.DepthwiseConvParams(g.padding, g.stride, g.stride, mult, FusedActivation.RELU,
                      g.dilation, g.dilation))
              .input("x", TensorType.INT8, inShape, q(inScale, rnd.nextInt(-100, 101)))
              .constant(TfliteTensor.constantBytes("w", TensorType.INT8, new int[] {1, g.kh, g.kw, cout},
                  int8s(rnd, cout * g.kh * g.kw, -127, 127), perChannel(fScales, 3)))
              .constant(TfliteTensor.constantInt32("b", new int[] {cout}, int32s(rnd, cout, -3000, 3000),
                  biasQuantization(inScale, fScales)))
              .output("y", TensorType.INT8, new int[] {batch, g.outH(), g.outW(), cout},
                  q(outScale, rnd.nextInt(-50, 51)))
              .build();
          Judge.check("depthwise int8 " + g + " batch " + batch + " cin " + cin + " mult " + mult, model,
              int8s(rnd, Judge.product(inShape), -128, 127));
        }
      }
    }
  }

  @Test
  void int8FullyConnectedIsBitExactForEveryDepthUnitsAndBatch() {
    int i = 0;
    for (int depth : new int[] {1, 3, 7, 64, 1600}) {
      for (int units : new int[] {1, 3, 7, 64, 128}) {
        for (int batch : new int[] {1, 3, 5, 8}) {
          SplittableRandom rnd = new SplittableRandom(400 + i++);
          float inScale = logUniform(rnd, 0.005, 0.1);
          int inZp = rnd.nextInt(-100, 101);
          float fScale = logUniform(rnd, 0.001, 0.05);
          float outScale = (float) (inScale * fScale * Math.sqrt(depth) * logUniform(rnd, 10, 100));
          TfliteModel model = TfliteTestModels.singleOp(BuiltinOp.FULLY_CONNECTED, 4,
                  new OperatorOptions.FullyConnectedParams(FusedActivation.NONE, false, false))
              .input("x", TensorType.INT8, new int[] {batch, depth}, q(inScale, inZp))
              .constant(TfliteTensor.constantBytes("w", TensorType.INT8, new int[] {units, depth},
                  int8s(rnd, units * depth, -127, 127), q(fScale, 0)))
              .constant(TfliteTensor.constantInt32("b", new int[] {units}, int32s(rnd, units, -3000, 3000),
                  biasQuantization(inScale, new float[] {fScale})))
              .output("y", TensorType.INT8, new int[] {batch, units}, q(outScale, rnd.nextInt(-50, 51))).build();
          byte[] x = int8s(rnd, batch * depth, -128, 127);
          for (int j = 0; j < x.length; j++) {
            if (rnd.nextInt(3) == 0 || (j / depth) % 2 == 1) {
              x[j] = (byte) inZp; // inputs at the zero point (as after a ReLU), whole rows of them in odd rows
            }
          }
          Judge.check("fc int8 batch " + batch + " depth " + depth + " units " + units, model, x);
        }
      }
    }
  }

  @Test
  void floatConvRowOutputIsTheSameAloneAndOnTheLanesPath() {
    // a row alone takes the im2col path; in a batch of 37 (reversed too) the lanes path, in groups with a smaller last
    int i = 0;
    for (int cin : CHANNELS) {
      for (int cout : CHANNELS) {
        SplittableRandom rnd = new SplittableRandom(700 + i);
        Geo g = GEOMETRIES[i++ % GEOMETRIES.length];
        assertLanes(g, 37, cin, cout);
        int[] rowShape = {1, g.h, g.w, cin};
        TfliteModel conv = TfliteTestModels.singleOp(BuiltinOp.CONV_2D, 1,
                new OperatorOptions.ConvParams(g.padding, g.stride, g.stride, FusedActivation.RELU6, g.dilation,
                    g.dilation))
            .input("x", TensorType.FLOAT32, rowShape, null)
            .constant(TfliteTensor.constantFloat32("w", new int[] {cout, g.kh, g.kw, cin},
                floats(rnd, cout * g.kh * g.kw * cin, -1, 1)))
            .constant(TfliteTensor.constantFloat32("b", new int[] {cout}, floats(rnd, cout, -1, 1)))
            .output("y", TensorType.FLOAT32, new int[] {1, g.outH(), g.outW(), cout}, null).build();
        rowInvariance("conv float lanes " + g + " cin " + cin + " cout " + cout, conv, rowShape, 37, rnd);
      }
    }
  }

  @Test
  void floatRowOutputIsTheSameAloneAndInAnyBatch() {
    int i = 0;
    for (int cin : CHANNELS) {
      for (int cout : CHANNELS) {
        SplittableRandom rnd = new SplittableRandom(500 + i);
        Geo g = GEOMETRIES[i++ % GEOMETRIES.length];
        int k = g.kh * g.kw * cin;
        int[] rowShape = {1, g.h, g.w, cin};
        TfliteModel conv = TfliteTestModels.singleOp(BuiltinOp.CONV_2D, 1,
                new OperatorOptions.ConvParams(g.padding, g.stride, g.stride, FusedActivation.NONE, g.dilation,
                    g.dilation))
            .input("x", TensorType.FLOAT32, rowShape, null)
            .constant(TfliteTensor.constantFloat32("w", new int[] {cout, g.kh, g.kw, cin},
                floats(rnd, cout * k, -1, 1)))
            .constant(TfliteTensor.constantFloat32("b", new int[] {cout}, floats(rnd, cout, -1, 1)))
            .output("y", TensorType.FLOAT32, new int[] {1, g.outH(), g.outW(), cout}, null).build();
        rowInvariance("conv float " + g + " cin " + cin + " cout " + cout, conv, rowShape, 7, rnd);

        int mult = 1 + i % 3;
        TfliteModel dw = TfliteTestModels.singleOp(BuiltinOp.DEPTHWISE_CONV_2D, 1,
                new OperatorOptions.DepthwiseConvParams(g.padding, g.stride, g.stride, mult, FusedActivation.NONE,
                    g.dilation, g.dilation))
            .input("x", TensorType.FLOAT32, rowShape, null)
            .constant(TfliteTensor.constantFloat32("w", new int[] {1, g.kh, g.kw, cin * mult},
                floats(rnd, g.kh * g.kw * cin * mult, -1, 1)))
            .constant(TfliteTensor.constantFloat32("b", new int[] {cin * mult}, floats(rnd, cin * mult, -1, 1)))
            .output("y", TensorType.FLOAT32, new int[] {1, g.outH(), g.outW(), cin * mult}, null).build();
        rowInvariance("depthwise float " + g + " cin " + cin + " mult " + mult, dw, rowShape, 7, rnd);

        int depth = cin * 11;
        TfliteModel fc = TfliteTestModels.floatFullyConnected(1, depth, cout, floats(rnd, cout * depth, -1, 1),
            i % 2 == 0 ? null : floats(rnd, cout, -1, 1), FusedActivation.NONE);
        rowInvariance("fc float depth " + depth + " units " + cout, fc, new int[] {1, depth}, 7, rnd);
      }
    }
  }

  /**
   * {@code rows} rows run as one batch, each row alone, and the rows reversed in one batch: the same bits for every
   * row (and the batch within tolerance of TFLite 2.6.2).
   */
  private static void rowInvariance(String context, TfliteModel model, int[] rowShape, int rows,
      SplittableRandom rnd) {
    int rowSize = Judge.product(rowShape);
    float[] x = floats(rnd, rows * rowSize, -2, 2);
    int[] batchShape = rowShape.clone();
    batchShape[0] = rows;
    Judge.check(context + " batch of " + rows, model, x);
    Interpreter interpreter = new Interpreter(model);
    float[] batched = interpreter.run(TensorValue.ofFloat(batchShape, x))[0].floats();
    float[] reversedX = new float[x.length];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(x, r * rowSize, reversedX, (rows - 1 - r) * rowSize, rowSize);
    }
    float[] reversed = interpreter.run(TensorValue.ofFloat(batchShape, reversedX))[0].floats();
    int outSize = batched.length / rows;
    for (int r = 0; r < rows; r++) {
      float[] alone = interpreter.run(TensorValue.ofFloat(rowShape, Arrays.copyOfRange(x, r * rowSize,
          (r + 1) * rowSize)))[0].floats();
      assertArrayEquals(alone, Arrays.copyOfRange(batched, r * outSize, (r + 1) * outSize),
          context + ": row " + r + " alone vs in the batch");
      assertArrayEquals(alone, Arrays.copyOfRange(reversed, (rows - 1 - r) * outSize, (rows - r) * outSize),
          context + ": row " + r + " alone vs at position " + (rows - 1 - r) + " of the reversed batch");
    }
  }
}
