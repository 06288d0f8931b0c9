package io.sparkquant.ops.export;

import java.util.Arrays;
import java.util.Locale;

/** The export modes of QUANT-SPEC.md ("Modes a user can ask for"), with their command-line names. */
public enum ExportMode {
  FLOAT32("float32", false),
  FLOAT16("float16", false),
  /** Weight-only int8 ("hybrid"): the runtime quantizes float activations on the fly. */
  DYNAMIC_RANGE("dynamic", false),
  INT8("int8", true),
  INT16X8("int16x8", true);

  private final String cliName;
  private final boolean needsRanges;

  ExportMode(String cliName, boolean needsRanges) {
    this.cliName = cliName;
    this.needsRanges = needsRanges;
  }

  public String cliName() {
    return cliName;
  }

  /** True for the full-integer modes, which need activation ranges from calibration. */
  public boolean needsRanges() {
    return needsRanges;
  }

  public static ExportMode fromCliName(String name) {
    for (ExportMode m : values()) {
      if (m.cliName.equals(name.toLowerCase(Locale.ROOT))) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown mode '" + name + "'; valid: "
        + Arrays.stream(values()).map(ExportMode::cliName).toList());
  }
}
