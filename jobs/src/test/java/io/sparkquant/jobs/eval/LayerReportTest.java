package io.sparkquant.jobs.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.report.LayerReportJob;
import io.sparkquant.ops.compare.LayerError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** layer-report on Spark with real exports of a trained CNN and real Parquet rows. */
class LayerReportTest {

  static final int ROWS = 300;
  static final double MIN_SQNR_DB = 20;
  /** Ranges 10x too wide cost ~20 dB (the step is 10x larger); ask for at least half of that on average. */
  static final double MIN_MEAN_DROP_DB = 10;

  @TempDir Path tmp;

  static LayerReportJob.Report run(Path reference, Path quantized, Path out, int partitions) {
    return LayerReportJob.run(SharedSpark.get(), new LayerReportJob.Options(reference.toString(),
        quantized.toString(), TestDatasets.test(), out.toString(), false, ROWS, 42, 64, partitions)).report();
  }

  @Test
  void int8SqnrIsHighAndDropsWithBadRangesAndDoesNotDependOnPartitions() {
    QuantizedModels m = QuantizedModels.get();
    LayerReportJob.Report good = run(m.float32, m.int8, tmp.resolve("good1"), 1);
    LayerReportJob.Report good3 = run(m.float32, m.int8, tmp.resolve("good3"), 3);
    LayerReportJob.Report bad = run(m.float32, m.int8BadRanges, tmp.resolve("bad"), 2);
    assertEquals(ROWS, good.rows());
    assertEquals(good.layers(), good3.layers(), "1 vs 3 partitions must give identical numbers");

    // Every graph tensor is compared, in graph order, named as in the graph.
    List<String> names = good.layers().stream().map(LayerError::tensor).toList();
    List<String> graphTensors = m.graph.tensors().stream().map(t -> t.name()).toList();
    assertEquals(graphTensors, names);
    double goodSum = 0;
    double badSum = 0;
    for (int i = 0; i < good.layers().size(); i++) {
      LayerError g = good.layers().get(i);
      LayerError b = bad.layers().get(i);
      assertEquals("INT8", g.type(), g.toString());
      assertNotNull(g.sqnrDb(), g.toString());
      assertTrue(Double.isFinite(g.sqnrDb()) && g.sqnrDb() > MIN_SQNR_DB, g.toString());
      assertEquals(ROWS * (long) m.graph.tensor(g.tensor()).itemSize(), g.elements());
      assertTrue(g.maxAbsError() > 0, g.toString());
      goodSum += g.sqnrDb();
      badSum += b.sqnrDb();
    }
    double drop = (goodSum - badSum) / good.layers().size();
    assertTrue(drop > MIN_MEAN_DROP_DB, "mean SQNR drop with 10x ranges is only " + drop + " dB");
  }

  @Test
  void commandWritesJsonAndHtml() throws Exception {
    QuantizedModels m = QuantizedModels.get();
    Path out = tmp.resolve("cli");
    assertEquals(0, Main.execute("layer-report", "--reference", m.float32.toString(), "--quantized",
        m.dynamic.toString(), "--data", TestDatasets.test(), "--rows", "100", "--out", out.toString()));
    JsonNode report = new ObjectMapper().readTree(out.resolve("layer-report.json").toFile());
    assertEquals(100, report.get("rows").asLong());
    assertEquals(m.graph.tensors().size(), report.get("layers").size());
    assertEquals("dynamic.tflite", report.get("quantized").get("file").asText());
    String html = Files.readString(out.resolve("report.html"));
    assertTrue(html.contains("<svg") && html.contains("SQNR"), html);
  }
}
