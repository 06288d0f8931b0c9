package io.sparkquant.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class OpProfileTest {

  private static final String I = "io.sparkquant.ops.interp.";
  private static final String K = "io.sparkquant.ops.kernels.";

  @Test
  void kernelSampleGoesToTheOpNearestTheTopNotToTheBaseClass() {
    List<String> conv = List.of(K + "Conv#accumulate4", K + "Conv#evalInt8", I + "ConvOp$2#compute",
        I + "WindowOp#compute", I + "PreparedOp#eval", I + "Interpreter#runAll", I + "Interpreter#run",
        I + "Interpreter#run", "io.sparkquant.jobs.bench.OpProfile#lambda$run$0", "java.lang.Thread#run");
    assertEquals("CONV_2D (ConvOp)", OpProfile.attribute(conv));
    List<String> window = List.of("java.util.Arrays#fill", I + "WindowOp#compute", I + "PreparedOp#eval",
        I + "Interpreter#runAll", "java.lang.Thread#run");
    assertEquals("CONV_2D/DEPTHWISE_CONV_2D shared code (WindowOp)", OpProfile.attribute(window));
  }

  @Test
  void elementwiseLambdaAndUnknownOpClassesAreNamed() {
    assertEquals("QUANTIZE (QuantizeOp)", OpProfile.attribute(List.of(K + "Quantize#int8",
        I + "QuantizeOp$$Lambda$77.0x0000000800c1#apply", I + "PreparedOp$1#compute", I + "PreparedOp#eval",
        I + "Interpreter#runAll")));
    assertEquals("TanhOp", OpProfile.attribute(List.of(I + "TanhOp#lambda$prepare$0", I + "PreparedOp$1#compute",
        I + "PreparedOp#eval", I + "Interpreter#runAll")));
    // the lambda frame hidden: the kernel's class names it
    assertEquals("kernels.Relu", OpProfile.attribute(List.of(K + "Relu#int8", I + "PreparedOp$1#compute",
        I + "PreparedOp#eval", I + "Interpreter#runAll")));
  }

  @Test
  void interpreterOwnWorkAndOutsideSamples() {
    assertEquals("interpreter: Interpreter.copy", OpProfile.attribute(List.of("java.lang.System#arraycopy",
        I + "Interpreter#copy", I + "Interpreter#runAll", I + "Interpreter#run")));
    assertEquals("interpreter: PreparedOp.eval", OpProfile.attribute(List.of(I + "PreparedOp#eval",
        I + "Interpreter#runAll")));
    assertEquals(OpProfile.OUTSIDE, OpProfile.attribute(List.of("io.sparkquant.jobs.bench.OpProfile#lambda$run$0",
        "java.lang.Thread#run")));
  }
}
