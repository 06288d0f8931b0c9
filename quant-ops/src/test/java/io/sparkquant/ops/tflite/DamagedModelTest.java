package io.sparkquant.ops.tflite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.ops.interp.BuiltinOpResolver;
import io.sparkquant.ops.interp.Interpreter;
import org.junit.jupiter.api.Test;

/**
 * Every damaged copy of a valid model is refused before it runs (reader or interpreter construction) with one
 * {@link InvalidModelException} of kind INVALID whose single line names the tensor or operator, and inspect's
 * verifier lists the same problem for every file the reader accepts.
 */
class DamagedModelTest {

  @Test
  void theUndamagedModelRuns() {
    Interpreter interpreter = new Interpreter(TfliteReader.read(DamagedModels.valid()));
    assertEquals(1, interpreter.outputCount());
  }

  @Test
  void everyDamagedFileIsRefusedByNameOnOneLine() {
    for (DamagedModels.Case c : DamagedModels.cases()) {
      InvalidModelException e = assertThrows(InvalidModelException.class,
          () -> new Interpreter(TfliteReader.read(c.bytes())), c.name());
      assertEquals(InvalidModelException.Kind.INVALID, e.kind(), c.name() + ": " + e.getMessage());
      assertTrue(e.getMessage().contains(c.expected()), c.name() + ": " + e.getMessage());
      assertFalse(e.getMessage().contains("\n"), c.name());
    }
  }

  @Test
  void inspectsVerifierReportsWhatTheInterpreterRefuses() {
    for (DamagedModels.Case c : DamagedModels.cases()) {
      TfliteModel model;
      try {
        model = TfliteReader.read(c.bytes());
      } catch (InvalidModelException e) {
        continue; // the reader refused it: nothing to summarize
      }
      TfliteModelSummary s = TfliteModelSummary.of(model, c.bytes().length, BuiltinOpResolver.INSTANCE);
      assertTrue(s.problems().stream().anyMatch(p -> p.contains(c.expected())), c.name() + ": " + s.problems());
    }
  }
}
