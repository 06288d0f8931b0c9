package io.sparkquant.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.jobs.TestDatasets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sparkquant pipeline} through spark-submit (deploy/submit.sh) on a real standalone cluster (master + 2
 * one-core workers, separate JVMs): train -> calibrate -> quantize -> evaluate -> report -> gate on the bundled subset,
 * every Spark step one application on the cluster; then the same submit again: every step is up to date, so it
 * completes without starting Spark at all (no new application on the master).
 */
class PipelineClusterIT {

  @TempDir Path work;

  @Test
  void pipelineRunsOnTheClusterAndItsRerunSkipsEveryStep() throws Exception {
    String train = TestDatasets.train();
    String test = TestDatasets.test();
    Path root = work.resolve("run");
    Path config = work.resolve("pipeline.json");
    Files.writeString(config, """
        {"root": "%s", "data": {"train": "%s", "test": "%s"},
         "train": {"preset": "cnn", "epochs": 1, "rows": 600, "partitions": 2},
         "calibrate": {"method": "minmax", "rows": 300}, "quantize": {"modes": ["dynamic", "int8"]},
         "evaluate": {"rows": 500}, "gate": {"models": ["int8"], "minAccuracy": 0.2, "maxDrop": 0.1}}
        """.formatted(root, train, test));

    try (StandaloneCluster cluster = StandaloneCluster.builder().workers(2).coresPerWorker(1).workerMemory("3g")
        .start()) {
      StandaloneCluster.SubmitResult first = cluster.submit("pipeline", "--config", config.toString());
      assertEquals(0, first.exitCode(), first.tail());
      for (String step : List.of("train", "calibrate", "quantize", "evaluate", "report", "gate")) {
        assertTrue(first.output().contains("step " + step + ": done"), step + ":\n" + first.tail());
      }
      assertTrue(first.output().contains("Gate passed"), first.tail());
      assertEquals(1, first.appIds().size(), "one application on the cluster: " + first.appIds());
      JsonNode summary = new ObjectMapper().readTree(root.resolve("report/summary.json").toFile());
      assertEquals(500, summary.get("rows").asLong());
      assertEquals(List.of("float", "dynamic", "int8"),
          List.of(summary.at("/models/0/label").asText(), summary.at("/models/1/label").asText(),
              summary.at("/models/2/label").asText()));
      JsonNode evalManifest = new ObjectMapper().readTree(root.resolve("eval/manifest.json").toFile());
      assertTrue(evalManifest.at("/spark/master").asText().startsWith("spark://"), evalManifest.toString());

      StandaloneCluster.SubmitResult second = cluster.submit("pipeline", "--config", config.toString());
      assertEquals(0, second.exitCode(), second.tail());
      for (String step : List.of("train", "calibrate", "quantize", "evaluate", "report")) {
        assertTrue(second.output().contains("step " + step + ": up to date, skipped"), step + ":\n" + second.tail());
      }
      assertFalse(second.output().contains("step train: running"), second.tail());
      assertEquals(List.of(), second.appIds(), "a rerun of completed steps starts no Spark application");
    }
  }
}
