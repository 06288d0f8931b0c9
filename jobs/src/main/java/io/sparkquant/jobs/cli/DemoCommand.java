package io.sparkquant.jobs.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.pipeline.PipelineConfig;
import io.sparkquant.jobs.pipeline.PipelineJob;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkquant demo}: the pipeline ({@link PipelineJob}) with its bundled config ({@value #CONFIG_RESOURCE}):
 * Fashion-MNIST IDX files (as {@code FashionMnist.locate} finds them) converted to Parquet, the cnn preset trained,
 * calibrated on training rows, exported as dynamic-range and full int8 .tflite, and the float, dynamic-range and int8
 * models evaluated side by side on the test set. The options below replace the config's values; a rerun skips the
 * steps whose outputs are up to date.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = "End-to-end demo: the pipeline with its bundled config (Fashion-MNIST IDX -> Parquet -> train cnn"
        + " -> calibrate -> quantize (dynamic, int8) -> evaluate float, dynamic and int8 side by side -> gate)."
        + " Writes <out>/data/{train,test}, <out>/model, <out>/calib, <out>/quant, <out>/eval, <out>/report;"
        + " a rerun skips the steps that are up to date. Exit code 4: the gate failed.")
public final class DemoCommand implements Callable<Integer> {

  /** The demo's pipeline config, a classpath resource. */
  static final String CONFIG_RESOURCE = "/io/sparkquant/jobs/pipeline/demo.json";

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--data",
      description = "Directory with Fashion-MNIST IDX files. Default: /usr/share/datasets/fashion-mnist"
          + " if installed, else the subset bundled with SparkQuant.")
  String data;

  @Option(names = "--out", description = "Output directory. Default: the config's root, sparkquant-demo.")
  String out;

  @Option(names = "--epochs", description = "Training epochs. Default: the config's, 2.")
  Integer epochs;

  @Option(names = "--train-rows", description = "Train on the first N training rows only; 0 = all. Default: 0.")
  Long trainRows;

  @Option(names = "--test-rows", description = "Evaluate on the first N test rows only; 0 = all. Default: 0.")
  Long testRows;

  @Option(names = "--partitions",
      description = "Training partitions (workers); 0 = Spark default parallelism. Default: 0.")
  Integer partitions;

  @Option(names = "--seed", description = "Training seed. Default: the config's, 42.")
  Long seed;

  @Option(names = "--calibration-method",
      description = "Range method of the int8 calibration: minmax, percentile, entropy or mse. Default: mse (the best"
          + " int8 accuracy in the full-data comparison, README Results).")
  String calibrationMethod;

  @Option(names = "--calibration-rows",
      description = "Training rows to calibrate on (seeded by id hash). Default: the config's, 1000.")
  Long calibrationRows;

  @Option(names = "--qat-rows",
      description = "Quantization-aware fine-tuning (one epoch) on the first N training rows; 0 = all. Default: the"
          + " config's, 10000.")
  Long qatRows;

  @Option(names = "--runtime",
      description = "What scores the .tflite models on the executors: java (SparkQuant's interpreter) or tflite"
          + " (the TFLite 2.6.2 native runtime). Default: java.")
  String runtime;

  @Override
  public Integer call() {
    Configuration conf = new Configuration();
    PipelineJob.Plan plan;
    try {
      plan = PipelineJob.plan(conf, config());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    PrintWriter console = spec.commandLine().getOut();
    console.printf("Fashion-MNIST from %s %s; writing to %s%n", plan.idx().source(),
        new org.apache.hadoop.fs.Path(plan.idx().trainImages()).getParent(), plan.root());
    console.flush();
    PipelineJob.Result result = PipelineCommand.run(console, sparkOptions, "sparkquant-demo", conf, plan,
        PipelineJob.Step.GATE);
    PipelineCommand.printResult(console, result);
    return PipelineCommand.gateExitCode(console, spec.commandLine().getErr(), result);
  }

  /** The bundled config with the given options in place of its values, checked as any pipeline config. */
  PipelineConfig config() {
    ObjectNode tree;
    try (InputStream in = DemoCommand.class.getResourceAsStream(CONFIG_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("Bundled resource " + CONFIG_RESOURCE + " is missing from the classpath");
      }
      tree = (ObjectNode) OutputDir.json().readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + CONFIG_RESOURCE, e);
    }
    ObjectNode dataNode = (ObjectNode) tree.get("data");
    ObjectNode train = (ObjectNode) tree.get("train");
    ObjectNode calibrate = (ObjectNode) tree.get("calibrate");
    ObjectNode evaluate = (ObjectNode) tree.get("evaluate");
    if (data != null) {
      dataNode.put("idx", data);
    }
    if (out != null) {
      tree.put("root", out);
    }
    if (epochs != null) {
      train.put("epochs", epochs);
    }
    if (trainRows != null) {
      train.put("rows", trainRows);
    }
    if (partitions != null) {
      train.put("partitions", partitions);
    }
    if (seed != null) {
      train.put("seed", seed);
    }
    if (calibrationMethod != null) {
      calibrate.put("method", calibrationMethod);
    }
    if (calibrationRows != null) {
      calibrate.put("rows", calibrationRows);
    }
    if (qatRows != null) {
      ((ObjectNode) tree.get("qat")).put("rows", qatRows);
    }
    if (testRows != null) {
      evaluate.put("rows", testRows);
    }
    if (runtime != null) {
      evaluate.put("runtime", runtime);
    }
    return PipelineConfig.parse(tree.toString());
  }
}
