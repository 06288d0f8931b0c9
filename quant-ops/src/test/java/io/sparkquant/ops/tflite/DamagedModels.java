package io.sparkquant.ops.tflite;

import io.sparkquant.ops.interp.TestCnn;
import io.sparkquant.ops.tflite.schema.Model;
import io.sparkquant.ops.tflite.schema.Operator;
import io.sparkquant.ops.tflite.schema.QuantizationParameters;
import io.sparkquant.ops.tflite.schema.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Damaged copies of a valid .tflite file ({@link TestCnn}, float I/O, batch 1), each with the fragment its refusal
 * must contain. The damage is done on the bytes (the writer refuses to write such models), by locating the field
 * through the generated schema accessors: what a flipped bit, a truncated copy or a hand-edited file gives.
 *
 * <p>TestCnn's tensors: 1 'image' (model input), 4 'conv1', 5 'pool1', 6 'conv2/weights' (32 per-channel scales),
 * 2 'conv1/weights', 14 'logits'; operators: 0 QUANTIZE, 1 and 3 CONV_2D, 2 and 4 MAX_POOL_2D, 5 RESHAPE,
 * 6 FULLY_CONNECTED, 7 SOFTMAX, 8 DEQUANTIZE.
 */
public final class DamagedModels {

  private DamagedModels() {}

  /** One damaged file: a file-name-safe name, its bytes and a fragment of the expected one-line message. */
  public record Case(String name, byte[] bytes, String expected) {}

  /** The valid model every case damages. */
  public static byte[] valid() {
    return TfliteWriter.write(TestCnn.build(11, 1, true));
  }

  public static List<Case> cases() {
    byte[] valid = valid();
    return List.of(
        new Case("truncated", Arrays.copyOf(valid, valid.length / 2), "Corrupt TFLite flatbuffer"),
        new Case("root-offset-out-of-range", patch(valid, b -> b.putInt(0, valid.length + 64)),
            "Corrupt TFLite flatbuffer"),
        new Case("tensor-index-out-of-range", patch(valid, b -> b.putInt(operator(b, 3).inputsAsByteBuffer().position(),
            999)), "operator 3 (CONV_2D) input 0 is tensor index 999, valid: 0..16"),
        new Case("negative-shape", patch(valid, b -> b.putInt(tensor(b, 5).shapeAsByteBuffer().position() + 4, -14)),
            "tensor 5 'pool1' has negative dimension -14"),
        new Case("huge-shape", patch(valid, b -> {
          int at = tensor(b, 1).shapeAsByteBuffer().position();
          b.putInt(at + 4, 1 << 20);
          b.putInt(at + 8, 1 << 20);
        }), "tensor 1 'image' has more than 2^31 elements"),
        new Case("large-input-shape", patch(valid, b -> {
          int at = tensor(b, 1).shapeAsByteBuffer().position();
          b.putInt(at + 4, 28_000);
          b.putInt(at + 8, 28_000);
        }), "operator 1 (CONV_2D): shape [1, 28000, 28000, 16] has more than"),
        new Case("buffer-too-small", patch(valid, b -> {
          int weights = (int) tensor(b, 2).buffer();
          int data = Model.getRootAsModel(b).buffers(weights).dataAsByteBuffer().position();
          b.putInt(data - 4, 100); // the vector's length prefix
        }), "tensor 2 'conv1/weights' (INT8 [16, 3, 3, 1]) needs 144 bytes of data, but buffer"),
        new Case("zero-scale", patch(valid, b -> b.putFloat(scales(b, 4), 0f)),
            "tensor 4 'conv1': scale[0] = 0.0, must be positive and finite"),
        new Case("nan-scale", patch(valid, b -> b.putFloat(scales(b, 14), Float.NaN)),
            "tensor 14 'logits': scale[0] = NaN, must be positive and finite"),
        new Case("zero-point-out-of-range", patch(valid, b -> b.putLong(zeroPoints(b, 4), 300)),
            "tensor 4 'conv1': zero point[0] = 300 outside -128..127 for INT8"),
        new Case("per-channel-count", patch(valid, b -> {
          b.putInt(scales(b, 6) - 4, 31);
          b.putInt(zeroPoints(b, 6) - 4, 31);
        }), "tensor 6 'conv2/weights' has 31 per-channel scales along dimension 0, but its shape is [32, 3, 3, 16]"),
        new Case("operator-input-count", patch(valid, b -> b.putInt(operator(b, 3).inputsAsByteBuffer().position() - 4,
            1)), "operator 3 (CONV_2D): has 1 inputs, expected 2..3"));
  }

  private static byte[] patch(byte[] valid, Consumer<ByteBuffer> damage) {
    byte[] copy = valid.clone();
    damage.accept(ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN));
    return copy;
  }

  private static Tensor tensor(ByteBuffer b, int index) {
    return Model.getRootAsModel(b).subgraphs(0).tensors(index);
  }

  private static Operator operator(ByteBuffer b, int index) {
    return Model.getRootAsModel(b).subgraphs(0).operators(index);
  }

  private static int scales(ByteBuffer b, int tensor) {
    QuantizationParameters q = tensor(b, tensor).quantization();
    return q.scaleAsByteBuffer().position();
  }

  private static int zeroPoints(ByteBuffer b, int tensor) {
    QuantizationParameters q = tensor(b, tensor).quantization();
    return q.zeroPointAsByteBuffer().position();
  }
}
