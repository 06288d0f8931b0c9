package io.sparkquant.jobs.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.ops.tflite.TensorType;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteReader;
import io.sparkquant.ops.tflite.TfliteTensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * evaluate on a converter-made int8 model: TFLite Micro's micro_speech keyword model (quant-ops test resources,
 * see converter-models/README.md) scores its own yes and no spectrograms. The dataset holds float features, as
 * every SparkQuant dataset does: the int8 spectrograms dequantized with the model's input scale and zero point,
 * which evaluate quantizes back exactly as the model's QUANTIZE op would.
 */
class ConverterInt8EvaluateTest {

  private static final List<String> LABELS = List.of("silence", "unknown", "yes", "no");

  @TempDir
  Path dir;

  @Test
  void microSpeechScoresYesAndNoOnBothRuntimes() throws IOException {
    byte[] modelBytes = resource("micro_speech_int8.tflite");
    Path model = Files.write(dir.resolve("micro_speech_int8.tflite"), modelBytes);
    TfliteModel parsed = TfliteReader.read(modelBytes);
    TfliteTensor in = parsed.tensor(parsed.inputs()[0]);
    assertEquals(TensorType.INT8, in.type());
    float scale = in.quantization().scale()[0];
    int zeroPoint = (int) in.quantization().zeroPoint()[0];

    List<Row> rows = new ArrayList<>();
    rows.add(RowFactory.create(dequantize(resource("micro_speech_yes_features.int8"), scale, zeroPoint),
        LABELS.indexOf("yes"), 0L));
    rows.add(RowFactory.create(dequantize(resource("micro_speech_no_features.int8"), scale, zeroPoint),
        LABELS.indexOf("no"), 1L));
    StructType schema = new StructType()
        .add(TensorDatasets.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add(TensorDatasets.LABEL, DataTypes.IntegerType, false)
        .add(TensorDatasets.ID, DataTypes.LongType, false);
    SparkSession spark = SharedSpark.get();
    String data = dir.resolve("speech").toString();
    TensorDatasets.write(spark.createDataFrame(rows, schema), new DatasetInfo(new int[] {49, 40, 1}, LABELS),
        data, Map.of("test", "ConverterInt8EvaluateTest"));

    List<List<Object>> predictions = new ArrayList<>();
    for (TfliteEngine engine : TfliteEngine.values()) {
      EvaluateJob.Result result = EvaluateJob.run(spark, new EvaluateJob.Options(List.of(model.toString()), data,
          dir.resolve("eval-" + engine).toString(), false, 2, 0, engine));
      assertEquals(1.0, result.metrics().accuracy(), 0.0, engine + ": " + result.metrics());
      String column = result.models().get(0).predictionColumn();
      List<Object> byId = new ArrayList<>();
      for (Row r : spark.read().parquet(result.predictionsPath()).orderBy("id").select("id", column).collectAsList()) {
        byId.add(r.get(1));
      }
      assertEquals(2, byId.size());
      predictions.add(byId);
    }
    assertEquals(predictions.get(0), predictions.get(1), "Java interpreter vs TFLite 2.6.2");
  }

  /** (q - zeroPoint) * scale: the float value whose quantization is q again. */
  private static List<Float> dequantize(byte[] q, float scale, int zeroPoint) {
    List<Float> out = new ArrayList<>(q.length);
    for (byte b : q) {
      out.add((b - zeroPoint) * scale);
    }
    return out;
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream s = ConverterInt8EvaluateTest.class.getResourceAsStream("/converter-models/" + name)) {
      if (s == null) {
        throw new AssertionError("missing quant-ops test resource /converter-models/" + name);
      }
      return s.readAllBytes();
    }
  }
}
