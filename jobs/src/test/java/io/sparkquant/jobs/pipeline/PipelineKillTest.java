package io.sparkquant.jobs.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.jobs.train.TrainJob;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline run in a real subprocess, killed with {@code destroyForcibly} while it calibrates, then rerun: the rerun
 * completes, and its calibration table, .tflite files, metrics and predictions are identical to those of an
 * uninterrupted run; nothing half-written (no hidden temporary) is left anywhere under the root.
 */
class PipelineKillTest {

  @TempDir Path tmp;

  @Test
  void runKilledDuringCalibrationThenRerunMatchesAnUninterruptedRun() throws Exception {
    SparkSession spark = SharedSpark.get();
    String model = TrainJob.run(spark, new TrainJob.Options(TestDatasets.train(), null, tmp.resolve("model")
        .toString(), false, 300, TrainConfig.withDefaults(Preset.CNN, 1, 2, 7)), s -> { }).modelPath();
    Path config = tmp.resolve("pipeline.json");
    // mse calibration on 2,000 rows: two passes over the cnn, long enough to be killed in the middle.
    Files.writeString(config, """
        {"root": "%s", "data": {"train": "%s", "test": "%s"}, "model": "%s",
         "calibrate": {"method": "mse", "rows": 2000}, "quantize": {"modes": ["int8", "dynamic"]},
         "evaluate": {"rows": 200}}
        """.formatted(tmp.resolve("unused"), TestDatasets.train(), TestDatasets.test(), model));
    PipelineConfig parsed = PipelineConfig.parse(Files.readString(config));
    Configuration conf = new Configuration();
    Path whole = tmp.resolve("whole");
    Path killed = tmp.resolve("killed");
    PipelineJob.run(() -> spark, conf, PipelineJob.plan(conf, parsed.withRoot(whole.toString())),
        PipelineJob.Step.GATE, new PipelineJob.Listener() { });

    Process process = pipelineProcess(config, killed);
    CountDownLatch calibrating = new CountDownLatch(1);
    List<String> output = new ArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (output) {
            output.add(line);
          }
          if (line.contains("calibrate: model")) { // CalibrateJob's first line: the dataset is loaded
            calibrating.countDown();
          }
        }
      } catch (java.io.IOException e) {
        // the stream closes when the process is killed
      }
    });
    reader.start();
    assertTrue(calibrating.await(5, TimeUnit.MINUTES), "calibration never started:\n" + String.join("\n", output));
    Thread.sleep(1500);
    process.destroyForcibly();
    assertTrue(process.waitFor(1, TimeUnit.MINUTES));
    reader.join(10_000);
    assertNotEquals(0, process.exitValue());
    assertFalse(Files.exists(killed.resolve("calib/table.json")), "killed after the table was written:\n"
        + String.join("\n", output));
    assertFalse(Files.exists(killed.resolve("pipeline/calibrate.json")));

    PipelineJob.Result rerun = PipelineJob.run(() -> spark, conf,
        PipelineJob.plan(conf, parsed.withRoot(killed.toString())), PipelineJob.Step.GATE,
        new PipelineJob.Listener() { });
    assertTrue(rerun.ran().containsAll(List.of(PipelineJob.Step.CALIBRATE, PipelineJob.Step.QUANTIZE,
        PipelineJob.Step.EVALUATE, PipelineJob.Step.REPORT)), rerun.ran().toString());

    for (String file : List.of("calib/table.json", "quant/model-int8.tflite", "quant/model-dynamic.tflite")) {
      assertArrayEquals(Files.readAllBytes(whole.resolve(file)), Files.readAllBytes(killed.resolve(file)), file);
    }
    ObjectMapper json = new ObjectMapper();
    assertEquals(json.readTree(whole.resolve("eval/metrics.json").toFile()),
        json.readTree(killed.resolve("eval/metrics.json").toFile()));
    Dataset<Row> a = spark.read().parquet(whole.resolve("eval/predictions.parquet").toString());
    Dataset<Row> b = spark.read().parquet(killed.resolve("eval/predictions.parquet").toString());
    assertEquals(200, b.count());
    assertEquals(0, a.exceptAll(b).count());
    assertEquals(0, b.exceptAll(a).count());
    try (Stream<Path> files = Files.walk(killed)) {
      // OutputCommit's temporaries are .<name>.tmp-<uuid> (Spark's .crc checksums of Parquet parts are not left-overs)
      List<Path> temporaries = files.filter(p -> p.getFileName().toString().startsWith(".")
          && p.getFileName().toString().contains(".tmp-")).toList();
      assertEquals(List.of(), temporaries, "left-overs of the killed run");
    }
  }

  /** {@code sparkquant pipeline} in a new JVM with this JVM's flags and class path, SparkQuant logging at INFO. */
  private static Process pipelineProcess(Path config, Path root) throws java.io.IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("-X") || arg.startsWith("--add-opens") || arg.startsWith("-Dorg.bytedeco")
          || arg.startsWith("-Djdk.reflect")) {
        command.add(arg);
      }
    }
    Path basedir = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    command.add("-Dlog4j2.configurationFile=" + basedir.resolve("conf/log4j2-cli.properties"));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.sparkquant.jobs.Main", "pipeline",
        "--config", config.toString(), "--root", root.toString(), "--master", "local[2]"));
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }
}
