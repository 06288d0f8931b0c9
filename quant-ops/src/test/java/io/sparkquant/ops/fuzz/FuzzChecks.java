package io.sparkquant.ops.fuzz;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The property every fuzz target shares: a refusal is one non-empty line. */
final class FuzzChecks {

  private FuzzChecks() {}

  static void assertOneLine(Exception e) {
    String message = e.getMessage();
    assertNotNull(message, () -> e.getClass().getSimpleName() + " without a message");
    assertFalse(message.isBlank(), "blank message");
    assertFalse(message.contains("\n") || message.contains("\r"), () -> "message is not one line: " + message);
  }
}
