package io.sparkquant.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.ops.calib.CalibrationTable;
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
 * evaluate is an hdfs:// URI; nothing of the run touches the local file system except the bundled IDX files it
 * first copies to HDFS.
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
  void convertTrainCalibrateEvaluateWithEveryPathOnHdfs() throws Exception {
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

    String eval = root + "/eval";
    run("evaluate", "--model", model, "--data", test, "--out", eval, "--limit", "500");

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
    assertTrue(hdfs.getFileStatus(new Path(eval, EvaluateJob.PREDICTIONS_DIR)).isDirectory());
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
