package io.sparkquant.ops.graph;

/** A DL4J model uses a layer or setting the importer (or exporter) cannot represent; the message says which and what is supported. */
public class UnsupportedModelException extends IllegalArgumentException {

  public UnsupportedModelException(String message) {
    super(message);
  }
}
