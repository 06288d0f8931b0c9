package io.sparkquant.ops.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparkquant.ops.interp.NpyFile;
import io.sparkquant.ops.interp.TensorValue;
import java.io.IOException;

/** {@code run --input}: a .npy file is parsed into a consistent tensor or refused with an IOException on one line. */
class NpyFileFuzzTest {

  @FuzzTest(maxDuration = "10s")
  void fromBytes(byte[] bytes) {
    try {
      TensorValue t = NpyFile.fromBytes(bytes, "fuzz.npy");
      // TensorValue's constructor checks shape against data; re-encoding must give a parsable file again
      NpyFile.fromBytes(NpyFile.toBytes(t), "again.npy");
    } catch (IOException e) {
      FuzzChecks.assertOneLine(e);
    }
  }
}
