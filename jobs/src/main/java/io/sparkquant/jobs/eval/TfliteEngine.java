package io.sparkquant.jobs.eval;

import java.util.Arrays;
import java.util.Locale;

/** What runs a .tflite model during evaluation. */
public enum TfliteEngine {
  /** SparkQuant's Java interpreter (io.sparkquant.ops.interp.Interpreter): no native code, shared by threads. */
  JAVA,
  /** The real TFLite 2.6.2 runtime (native, one instance per thread). */
  TFLITE;

  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static TfliteEngine fromCliName(String name) {
    for (TfliteEngine e : values()) {
      if (e.cliName().equals(name.toLowerCase(Locale.ROOT))) {
        return e;
      }
    }
    throw new IllegalArgumentException("unknown runtime '" + name + "'; valid: "
        + Arrays.stream(values()).map(TfliteEngine::cliName).toList());
  }
}
