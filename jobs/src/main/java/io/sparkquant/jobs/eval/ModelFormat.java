package io.sparkquant.jobs.eval;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.ModelMetadata;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/** The model file formats evaluation can score, recognized by their content (not the file name). */
public enum ModelFormat {

  /** A DL4J ModelSerializer zip (MultiLayerNetwork or ComputationGraph), scored in float. */
  DL4J {
    @Override
    public Predictor load(byte[] modelBytes, String name, TfliteEngine engine) {
      return Dl4jPredictor.fromBytes(modelBytes, name);
    }

    @Override
    public DatasetInfo rowInfo(byte[] modelBytes, String name) {
      ModelMetadata recorded = ModelMetadata.read(modelBytes).orElseThrow(() -> new IllegalArgumentException(
          "Model " + name + " records no input shape (a DL4J zip SparkQuant did not train), and the data carries"
              + " no tensor metadata: write the data with TensorDatasets.write, or give the input shape"));
      if (!recorded.classNames().isEmpty()) {
        return new DatasetInfo(recorded.inputShape(), recorded.classNames());
      }
      try {
        Graph graph = Dl4jImporter.importModel(Dl4jImporter.load(modelBytes), recorded.inputShape());
        int[] out = graph.output().shape();
        return new DatasetInfo(recorded.inputShape(), classIndices(out[out.length - 1]));
      } catch (IOException e) {
        throw new IllegalArgumentException("Model " + name + " is not a readable DL4J zip: " + e.getMessage(), e);
      }
    }
  },

  /** A TensorFlow Lite flatbuffer (float, dynamic-range, int8 or 16x8), run by the chosen {@link TfliteEngine}. */
  TFLITE {
    @Override
    public Predictor load(byte[] modelBytes, String name, TfliteEngine engine) {
      return TflitePredictor.fromBytes(modelBytes, name, engine);
    }

    @Override
    public DatasetInfo rowInfo(byte[] modelBytes, String name) {
      TfliteModel model;
      try {
        model = TfliteReader.read(modelBytes);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("Model " + name + " is not a readable .tflite flatbuffer: "
            + e.getMessage(), e);
      }
      int[] in = model.tensor(model.inputs()[0]).shape();
      int[] out = model.tensor(model.outputs()[0]).shape();
      return new DatasetInfo(Arrays.copyOfRange(in, 1, in.length), classIndices(out[1]));
    }
  };

  /**
   * The rows the model takes: its input shape without the batch dimension, and its class names (a .tflite file
   * carries none: "0", "1", ...). For data that carries no tensor metadata.
   */
  public abstract DatasetInfo rowInfo(byte[] modelBytes, String name);

  /**
   * The model's input shape without the batch dimension when the file records it (a .tflite always does, a DL4J
   * zip when {@code train} wrote it); empty otherwise.
   */
  public java.util.Optional<int[]> inputShape(byte[] modelBytes, String name) {
    return this == TFLITE ? java.util.Optional.of(rowInfo(modelBytes, name).shape())
        : ModelMetadata.read(modelBytes).map(ModelMetadata::inputShape);
  }

  /**
   * Whether rows of {@code dataShape} fit a model taking {@code modelShape}: the same shape, or a flat model input
   * with as many values (a dense network on images).
   */
  public static boolean fits(int[] dataShape, int[] modelShape) {
    return Arrays.equals(dataShape, modelShape)
        || modelShape.length == 1 && Arrays.stream(dataShape).reduce(1, (a, b) -> a * b) == modelShape[0];
  }

  private static List<String> classIndices(int n) {
    return IntStream.range(0, n).mapToObj(Integer::toString).toList();
  }

  /**
   * Builds a predictor from the model bytes; {@code engine} chooses what runs a .tflite model (DL4J ignores it);
   * {@code name} is for error messages.
   */
  public abstract Predictor load(byte[] modelBytes, String name, TfliteEngine engine);

  /** Recognizes the format from the file content: a zip ('PK') or a flatbuffer with identifier TFL3 at byte 4. */
  public static ModelFormat detect(byte[] modelBytes, String name) {
    if (modelBytes.length >= 4 && modelBytes[0] == 'P' && modelBytes[1] == 'K') {
      return DL4J;
    }
    if (modelBytes.length >= 8
        && new String(modelBytes, 4, 4, StandardCharsets.US_ASCII).equals("TFL3")) {
      return TFLITE;
    }
    throw new IllegalArgumentException("Model " + name + " is neither a DL4J ModelSerializer zip (starts with"
        + " 'PK') nor a .tflite flatbuffer (identifier TFL3 at byte 4)");
  }
}
