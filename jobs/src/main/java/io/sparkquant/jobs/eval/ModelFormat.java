package io.sparkquant.jobs.eval;

import java.nio.charset.StandardCharsets;

/** The model file formats evaluation can score, recognized by their content (not the file name). */
public enum ModelFormat {

  /** A DL4J ModelSerializer zip (MultiLayerNetwork or ComputationGraph), scored in float. */
  DL4J {
    @Override
    public Predictor load(byte[] modelBytes, String name, TfliteEngine engine) {
      return Dl4jPredictor.fromBytes(modelBytes, name);
    }
  },

  /** A TensorFlow Lite flatbuffer (float, dynamic-range, int8 or 16x8), run by the chosen {@link TfliteEngine}. */
  TFLITE {
    @Override
    public Predictor load(byte[] modelBytes, String name, TfliteEngine engine) {
      return TflitePredictor.fromBytes(modelBytes, name, engine);
    }
  };

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
