package io.sparkquant.jobs.eval;

import java.nio.charset.StandardCharsets;

/** The model file formats evaluation can score. */
public enum ModelFormat {

  /** A DL4J ModelSerializer zip (MultiLayerNetwork or ComputationGraph), scored in float. */
  DL4J {
    @Override
    public Predictor load(byte[] modelBytes, String name) {
      return Dl4jPredictor.fromBytes(modelBytes, name);
    }
  };

  /** Builds a predictor from the model bytes; {@code name} is for error messages. */
  public abstract Predictor load(byte[] modelBytes, String name);

  /** Recognizes the format from the file content. */
  public static ModelFormat detect(byte[] modelBytes, String name) {
    if (modelBytes.length >= 4 && modelBytes[0] == 'P' && modelBytes[1] == 'K') {
      return DL4J;
    }
    if (modelBytes.length >= 8
        && new String(modelBytes, 4, 4, StandardCharsets.US_ASCII).equals("TFL3")) {
      throw new IllegalArgumentException("Model " + name + " is a TensorFlow Lite flatbuffer; this evaluate"
          + " command scores DL4J zips only so far");
    }
    throw new IllegalArgumentException("Model " + name + " is neither a DL4J ModelSerializer zip (starts with"
        + " 'PK') nor a .tflite flatbuffer (identifier TFL3 at byte 4)");
  }
}
