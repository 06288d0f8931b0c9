package io.sparkquant.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.calib.CalibrateJob;
import io.sparkquant.jobs.eval.EvaluateJob;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.quantize.QuantizeJob;
import io.sparkquant.jobs.train.TrainJob;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.interp.NpyFile;
import io.sparkquant.ops.interp.TensorValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The command line against a real HDFS: an in-process MiniDFSCluster (one name node, one data node, loopback only,
 * storage in a temporary directory) and local Spark. Every input and output of convert -> train -> calibrate ->
 * quantize -> evaluate (and of inspect and run on the exported model) is an hdfs:// URI; nothing of the run touches
 * the local file system except the bundled IDX files it first copies to HDFS.
 */
class HdfsPipelineTest {

  /** Ten classes: a model that learned nothing scores about 0.1. */
  private static final double ABOVE_CHANCE = 0.3;

  @TempDir static java.nio.file.Path storage;
  private static MiniDFSCluster cluster;
  private static FileSystem hdfs;
  private static String root;

  @BeforeAll
  static void startHdfs() throws IOException {
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, storage.toString());
    conf.setInt("dfs.heartbeat.interval", 1); // seconds; the data node registers sooner
    cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    cluster.waitActive();
    hdfs = cluster.getFileSystem();
    root = cluster.getURI() + "/sparkquant";
  }

  @AfterAll
  static void stopHdfs() {
    if (cluster != null) {
      cluster.shutdown(true);
    }
  }

  @Test
  void convertTrainCalibrateQuantizeEvaluateWithEveryPathOnHdfs() throws Exception {
    SharedSpark.get(); // the commands then share the test JVM's local Spark session
    assertTrue(root.startsWith("hdfs://"), root);
    String idx = root + "/idx";
    hdfs.mkdirs(new Path(idx));
    try (var files = Files.list(java.nio.file.Path.of(TestDatasets.idxDir()))) {
      for (java.nio.file.Path f : files.toList()) {
        hdfs.copyFromLocalFile(new Path(f.toUri()), new Path(idx, f.getFileName().toString()));
      }
    }

    String train = root + "/data/train";
    String test = root + "/data/test";
    run("convert", "--format", "idx", "--input", idx, "--split", "train", "--out", train);
    run("convert", "--format", "idx", "--input", idx, "--split", "test", "--out", test);

    String modelDir = root + "/model";
    run("train", "--data", train, "--out", modelDir, "--preset", "cnn", "--epochs", "1", "--limit", "1000",
        "--seed", "3");
    String model = modelDir + "/" + TrainJob.MODEL_FILE;

    String table = root + "/calib/table.json";
    run("calibrate", "--model", model, "--data", train, "--out", table, "--rows", "300");

    // no --input-shape: the trained model records it
    String int8 = root + "/quant/model-int8.tflite";
    run("quantize", "--model", model, "--mode", "int8", "--calibration", table, "--out", int8);
    // an existing output is replaced only with --overwrite, checked on HDFS before any work
    String refused = usageError("quantize", "--model", model, "--mode", "int8", "--calibration", table,
        "--out", int8);
    assertTrue(refused.contains("--out " + int8 + " already exists"), refused);
    run("quantize", "--model", model, "--mode", "int8", "--calibration", table, "--out", int8, "--overwrite");

    String eval = root + "/eval";
    run("evaluate", "--model", model, "--model", int8, "--data", test, "--out", eval, "--limit", "500");

    run("inspect", int8); // exit 0: valid, and TFLite 2.6.2 loads it
    String images = root + "/npy/images.npy";
    try (var out = hdfs.create(new Path(images), false)) {
      out.write(NpyFile.toBytes(TensorValue.ofFloat(new int[] {3, 28, 28, 1}, new float[3 * 28 * 28])));
    }
    String outputs = root + "/run";
    run("run", int8, "--input", images, "--output-dir", outputs);

    assertTrue(hdfs.isFile(new Path(model)), model);
    assertTrue(hdfs.isFile(new Path(modelDir, Manifest.FILE_NAME)));
    CalibrationTable calibration = CalibrationTable.fromJson(read(table));
    assertFalse(calibration.tensors().isEmpty(), "calibration table has no tensors");
    assertEquals("calibrate", OutputDir.json().readTree(read(CalibrateJob.manifestPath(table))).get("command")
        .asText());
    JsonNode metrics = OutputDir.json().readTree(read(eval + "/" + EvaluateJob.METRICS_FILE));
    assertEquals(500, metrics.get("rows").asLong());
    double accuracy = metrics.get("accuracy").asDouble();
    assertTrue(accuracy > ABOVE_CHANCE, "float model accuracy " + accuracy);
    JsonNode quantized = metrics.get("models").get(1);
    assertEquals("model-int8.tflite", quantized.get("file").asText());
    assertEquals(hdfs.getFileStatus(new Path(int8)).getLen(), quantized.get("sizeBytes").asLong());
    double int8Accuracy = quantized.get("metrics").get("accuracy").asDouble();
    assertTrue(int8Accuracy > ABOVE_CHANCE, "int8 model accuracy " + int8Accuracy);
    JsonNode card = OutputDir.json().readTree(read(QuantizeJob.cardPath(int8)));
    assertEquals(hdfs.getFileStatus(new Path(int8)).getLen(), card.get("fileSizeBytes").asLong());
    assertTrue(hdfs.getFileStatus(new Path(eval, EvaluateJob.PREDICTIONS_DIR)).isDirectory());
    List<String> runFiles = new ArrayList<>();
    for (FileStatus f : hdfs.listStatus(new Path(outputs))) {
      runFiles.add(f.getPath().getName());
    }
    assertEquals(2, runFiles.size(), "one .npy per model output and the manifest: " + runFiles);
    assertTrue(runFiles.contains(Manifest.FILE_NAME), runFiles.toString());
    assertTrue(hdfs.isFile(new Path(eval, EvaluateJob.REPORT_FILE)));
    assertEquals(List.of(), hiddenLeftovers(new Path(root)), "temporary outputs left on HDFS");
  }

  /** Runs the CLI; a non-zero exit fails with what the command printed. */
  private static void run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    assertEquals(0, code, String.join(" ", args) + "\nout: " + out + "\nerr: " + err);
  }

  /** Runs the CLI expecting a usage error (exit code 2); returns what it printed on stderr. */
  private static String usageError(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    assertEquals(2, cli.execute(args), String.join(" ", args) + "\nerr: " + err);
    return err.toString();
  }

  private static String read(String path) throws IOException {
    try (InputStream in = hdfs.open(new Path(path))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Files and directories whose names start with '.' (temporary outputs), anywhere under {@code dir}. */
  private static List<String> hiddenLeftovers(Path dir) throws IOException {
    List<String> hidden = new ArrayList<>();
    for (FileStatus s : hdfs.listStatus(dir)) {
      if (s.getPath().getName().startsWith(".")) {
        hidden.add(s.getPath().toString());
      } else if (s.isDirectory()) {
        hidden.addAll(hiddenLeftovers(s.getPath()));
      }
    }
    return hidden;
  }
}
