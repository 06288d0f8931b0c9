package io.sparkquant.jobs;

import io.sparkquant.data.FashionMnist;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.jobs.train.TrainConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkquant demo}: Fashion-MNIST end to end on the local machine: locate the IDX files, convert
 * train and test to Parquet, train the cnn preset, evaluate it. Reruns replace the demo's own outputs.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = "End-to-end demo: Fashion-MNIST IDX -> Parquet -> train cnn -> evaluate. Writes"
        + " <out>/data/{train,test}, <out>/model, <out>/eval (replaced on rerun).")
public final class DemoCommand implements Callable<Integer> {

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

  @Override
  public Integer call() {
    IdxFiles train;
    IdxFiles test;
    TrainConfig trainConfig;
    String sourceName;
    try {
      FashionMnist.Location source = FashionMnist.locate(data);
      train = new IdxFiles(source.trainImages(), source.trainLabels());
      test = new IdxFiles(source.testImages(), source.testLabels());
      sourceName = source.source() + " " + Path.of(source.trainImages()).getParent();
      trainConfig = TrainConfig.withDefaults(Preset.CNN, epochs, partitions, seed);
      if (trainRows < 0 || testRows < 0) {
        throw new IllegalArgumentException("--train-rows and --test-rows must be >= 0");
      }
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    PrintWriter console = spec.commandLine().getOut();
    Path root = Path.of(out).toAbsolutePath();
    String trainData = root.resolve("data/train").toString();
    String testData = root.resolve("data/test").toString();
    console.printf("Fashion-MNIST from %s; writing to %s%n", sourceName, root);
    console.flush();

    SparkSession spark = sparkOptions.session("sparkquant-demo");
    long trainCount = ConvertJob.idx(spark, train, trainData, true, FashionMnist.CLASS_NAMES, 2);
    long testCount = ConvertJob.idx(spark, test, testData, true, FashionMnist.CLASS_NAMES, 2);
    console.printf("Converted %d training and %d test rows to Parquet%n", trainCount, testCount);
    console.flush();

    TrainJob.Result trained = TrainJob.run(spark,
        new TrainJob.Options(trainData, null, root.resolve("model").toString(), true, trainRows, trainConfig),
        stats -> {
          console.println(stats.describe());
          console.flush();
        });
    EvaluateJob.Result evaluated = EvaluateJob.run(spark, new EvaluateJob.Options(trained.modelPath(),
        testData, root.resolve("eval").toString(), true, 256, testRows));
    console.printf("Model: %s%n", trained.modelPath());
    EvaluateCommand.print(console, evaluated);
    return 0;
  }
}
