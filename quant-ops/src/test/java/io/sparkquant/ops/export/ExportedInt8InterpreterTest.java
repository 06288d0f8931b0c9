package io.sparkquant.ops.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.sparkquant.ops.interp.Interpreter;
import io.sparkquant.ops.numerics.QuantParams;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteWriter;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteRuntime;
import org.junit.jupiter.api.Test;

/**
 * Every int8 model the exporter writes for the test models runs bit-identically in the Java {@link Interpreter}
 * and in TFLite 2.6.2 (int8 I/O, so the comparison is on raw int8 outputs).
 */
class ExportedInt8InterpreterTest {

  @Test
  void javaInterpreterMatchesTfliteBitForBit() {
    for (TfliteExporterTest.Case c : TfliteExporterTest.cases()) {
      TfliteModel m = TfliteExporter.export(c.graph(),
          ExportOptions.int8(TfliteExporterTest.ranges(c), ExportOptions.IoType.INT8));
      byte[] bytes = TfliteWriter.write(m);
      assertJavaMatchesTflite(c, bytes);
    }
  }

  /** The Java interpreter's int8 outputs equal TFLite 2.6.2's on every input of the case (an int8-I/O model). */
  static void assertJavaMatchesTflite(TfliteExporterTest.Case c, byte[] bytes) {
    Interpreter interpreter = new Interpreter(TfliteReader.read(bytes));
    try (TfliteRuntime rt = TfliteRuntime.create(bytes, 1)) {
      QuantParams in = new QuantParams(rt.inputScale(0), rt.inputZeroPoint(0));
      for (int s = 0; s < c.inputs().length; s++) {
        float[] x = c.inputs()[s];
        byte[] q = new byte[x.length];
        for (int i = 0; i < x.length; i++) {
          q[i] = (byte) in.quantize(x[i], -128, 127);
        }
        byte[] expected = (byte[]) rt.run((Object) q)[0];
        byte[] actual = (byte[]) interpreter.run((Object) q)[0];
        assertArrayEquals(expected, actual, c.name() + " sample " + s);
      }
    }
  }
}
