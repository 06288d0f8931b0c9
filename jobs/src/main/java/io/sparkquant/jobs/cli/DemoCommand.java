package io.sparkquant.jobs.cli;

import io.sparkquant.data.FashionMnist;
import io.sparkquant.jobs.calib.CalibrateJob;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.jobs.convert.ConvertJob;
import io.sparkquant.jobs.convert.IdxFiles;
import io.sparkquant.jobs.eval.EvaluateJob;
import io.sparkquant.jobs.eval.ModelComparison;
import io.sparkquant.jobs.eval.TfliteEngine;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.quantize.QuantizeJob;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.jobs.train.TrainJob;
import io.sparkquant.ops.calib.BinLayout;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.export.ExportMode;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkquant demo}: Fashion-MNIST end to end on the local machine: locate the IDX files, convert
 * train and test to Parquet, train the cnn preset, calibrate it on training rows, export a dynamic-range and
 * a full-int8 .tflite, and evaluate the float, dynamic-range and int8 models side by side on the test set.
 * Every step is the same library call its own subcommand makes. Reruns replace the demo's own outputs.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = "End-to-end demo: Fashion-MNIST IDX -> Parquet -> train cnn -> calibrate -> quantize (dynamic,"
        + " int8) -> evaluate float, dynamic and int8 side by side. Writes <out>/data/{train,test}, <out>/model,"
        + " <out>/calib, <out>/quant, <out>/eval (replaced on rerun).")
public final class DemoCommand implements Callable<Integer> {

  /** The demo's default range method: the best int8 accuracy in the full-data comparison (README, Results). */
  static final String DEFAULT_CALIBRATION_METHOD = "mse";

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(names = "--data",
      description = "Directory with Fashion-MNIST IDX files. Default: /usr/share/datasets/fashion-mnist"
          + " if installed, else the subset bundled with SparkQuant.")
  String data;

  @Option(names = "--out", defaultValue = "sparkquant-demo",
      description = "Output directory. Default: ${DEFAULT-VALUE}.")
  String out;

  @Option(names = "--epochs", defaultValue = "2", description = "Training epochs. Default: ${DEFAULT-VALUE}.")
  int epochs;

  @Option(names = "--train-rows", defaultValue = "0",
      description = "Train on the first N training rows only; 0 = all. Default: ${DEFAULT-VALUE}.")
  long trainRows;

  @Option(names = "--test-rows", defaultValue = "0",
      description = "Evaluate on the first N test rows only; 0 = all. Default: ${DEFAULT-VALUE}.")
  long testRows;

  @Option(names = "--partitions", defaultValue = "0",
      description = "Training partitions (workers); 0 = Spark default parallelism. Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Option(names = "--seed", defaultValue = "" + TrainConfig.DEFAULT_SEED, description = "Training seed. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--calibration-method", defaultValue = DEFAULT_CALIBRATION_METHOD,
      description = "Range method of the int8 calibration: minmax, percentile, entropy or mse."
          + " Default: ${DEFAULT-VALUE}.")
  String calibrationMethod;

  @Option(names = "--calibration-rows", defaultValue = "1000",
      description = "Training rows to calibrate on (seeded by id hash). Default: ${DEFAULT-VALUE}.")
  long calibrationRows;

  @Option(names = "--runtime", defaultValue = "java",
      description = "What scores the .tflite models on the executors: java (SparkQuant's interpreter) or tflite"
          + " (the TFLite 2.6.2 native runtime). Default: ${DEFAULT-VALUE}.")
  String runtime;

  @Override
  public Integer call() {
    IdxFiles train;
    IdxFiles test;
    TrainConfig trainConfig;
    RangeMethod method;
    TfliteEngine engine;
    String sourceName;
    try {
      FashionMnist.Location source = FashionMnist.locate(data);
      train = new IdxFiles(source.trainImages(), source.trainLabels());
      test = new IdxFiles(source.testImages(), source.testLabels());
      sourceName = source.source() + " " + new Path(source.trainImages()).getParent();
      trainConfig = TrainConfig.withDefaults(Preset.CNN, epochs, partitions, seed);
      if (trainRows < 0 || testRows < 0) {
        throw new IllegalArgumentException("--train-rows and --test-rows must be >= 0");
      }
      if (calibrationRows < 1) {
        throw new IllegalArgumentException("--calibration-rows must be >= 1, got " + calibrationRows);
      }
      method = RangeMethod.parse(calibrationMethod, null);
      engine = TfliteEngine.fromCliName(runtime);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    PrintWriter console = spec.commandLine().getOut();
    String root = HadoopFiles.qualified(new Configuration(), out);
    String trainData = root + "/data/train";
    String testData = root + "/data/test";
    console.printf("Fashion-MNIST from %s; writing to %s%n", sourceName, root);
    console.flush();

    SparkSession spark = sparkOptions.session("sparkquant-demo");
    long trainCount = ConvertJob.idx(spark, train, trainData, true, FashionMnist.CLASS_NAMES, 2);
    long testCount = ConvertJob.idx(spark, test, testData, true, FashionMnist.CLASS_NAMES, 2);
    console.printf("Converted %d training and %d test rows to Parquet%n", trainCount, testCount);
    console.flush();

    TrainJob.Result trained = TrainJob.run(spark,
        new TrainJob.Options(trainData, null, root + "/model", true, trainRows, trainConfig),
        stats -> {
          console.println(stats.describe());
          console.flush();
        });
    console.printf("Model: %s%n", trained.modelPath());
    console.flush();

    String tablePath = root + "/calib/table.json";
    CalibrateJob.Result calibrated = CalibrateJob.run(spark, new CalibrateJob.Options(trained.modelPath(),
        trainData, tablePath, method.name(), method instanceof RangeMethod.Percentile p ? p.percentile() : null,
        calibrationRows, 0, 0, 0, Calibrator.DEFAULT_BATCH_SIZE, BinLayout.DEFAULT_TARGET_BINS, true));
    console.printf("Calibrated %d tensors on %d training rows (%s): %s%n",
        calibrated.run().table().tensors().size(), calibrated.run().rows(), method.name(), tablePath);

    String quantDir = root + "/quant";
    // The model records its input shape (train does), and the int8 export takes the table calibrate just made.
    QuantizeJob.Result dynamicExport = QuantizeJob.run(spark, QuantizeJob.Options.of(trained.modelPath(),
        quantDir + "/model-dynamic.tflite", ExportMode.DYNAMIC_RANGE).withOverwrite(true));
    QuantizeJob.Result int8Export = QuantizeJob.run(spark, QuantizeJob.Options.of(trained.modelPath(),
        quantDir + "/model-int8.tflite", ExportMode.INT8).withCalibrationTable(tablePath).withOverwrite(true),
        calibrated.run().table());
    for (QuantizeJob.Result r : List.of(dynamicExport, int8Export)) {
      console.printf("%s %d bytes (%s)%n", r.tflitePath(), r.export().tflite().length,
          r.export().options().mode().cliName());
    }
    String dynamic = dynamicExport.tflitePath();
    String int8 = int8Export.tflitePath();

    EvaluateJob.Result evaluated = EvaluateJob.run(spark, new EvaluateJob.Options(
        List.of(trained.modelPath(), dynamic, int8), testData, root + "/eval", true, 256,
        testRows, engine));
    console.printf("%nOn %d test rows (.tflite on the %s runtime):%n", evaluated.metrics().rows(),
        engine.cliName());
    printTable(console, evaluated.models());
    console.printf("%nModel: %s%nCalibration table: %s%nDynamic-range: %s%nInt8: %s%n", trained.modelPath(),
        tablePath, dynamic, int8);
    console.printf("Metrics: %s%nPredictions: %s%nReport: %s%nManifest: %s%n", evaluated.metricsPath(),
        evaluated.predictionsPath(), evaluated.reportPath(), root + "/eval/manifest.json");
    console.flush();
    return 0;
  }

  /** model, top-1, size and agreement with the float model, one line per model. */
  static void printTable(PrintWriter console, List<ModelComparison.ModelReport> models) {
    console.printf("  %-16s %7s %11s %20s%n", "model", "top-1", "size bytes", "agreement with float");
    for (ModelComparison.ModelReport m : models) {
      console.printf("  %-16s %7.4f %11d %20.4f%n", m.key(), m.metrics().accuracy(), m.sizeBytes(),
          m.agreementWithReference().top1());
    }
  }
}
