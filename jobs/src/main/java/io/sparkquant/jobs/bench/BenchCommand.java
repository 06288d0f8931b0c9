package io.sparkquant.jobs.bench;

import io.sparkquant.data.Batches;
import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.cli.CheckedPaths;
import io.sparkquant.jobs.eval.Scoring;
import io.sparkquant.jobs.spark.SparkSessions;
import io.sparkquant.jobs.train.ParameterAveragingTrainer;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.jobs.train.TrainConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkquant bench} (hidden): training samples/s for each given local master on the same rows and
 * partitions-per-core, then Parquet read rows/s (decoded to batches) vs. model inference rows/s.
 */
@Command(name = "bench", hidden = true, mixinStandardHelpOptions = true, sortOptions = false,
    description = "Benchmark: training samples/s per local master (e.g. local[1] vs local[2]), Parquet"
        + " read rows/s vs. inference rows/s.")
public final class BenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--data", required = true, description = "Dataset (Parquet tensor format).")
  String data;

  @Option(names = "--preset", defaultValue = "cnn", description = "Network: cnn or mlp. Default: ${DEFAULT-VALUE}.")
  String preset;

  @Option(names = "--rows", defaultValue = "6000",
      description = "Training rows (the first N). Default: ${DEFAULT-VALUE}.")
  long rows;

  @Option(names = "--epochs", defaultValue = "2",
      description = "Epochs per master; the last epoch is reported (the first warms up). Default: ${DEFAULT-VALUE}.")
  int epochs;

  @Mixin LocalMasters localMasters;

  @Override
  public Integer call() throws IOException {
    TrainConfig config;
    List<String> masters;
    try {
      masters = localMasters.checked();
      config = TrainConfig.withDefaults(Preset.fromCliName(preset), epochs, 1, TrainConfig.DEFAULT_SEED);
      CheckedPaths.requireExists(data, "--data");
      if (rows < 1) {
        throw new IllegalArgumentException("--rows must be >= 1");
      }
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    PrintWriter console = spec.commandLine().getOut();
    List<Double> rates = new ArrayList<>();
    byte[] model = null;
    for (String master : masters) {
      int cores = LocalMasters.cores(master);
      SparkSession spark = SparkSessions.create("sparkquant-bench", master);
      try (CoreAffinity pinned = localMasters.pin(master)) {
        TensorDataset dataset = TensorDatasets.load(spark, data);
        DatasetInfo info = dataset.info();
        Dataset<Row> input = dataset.rows().limit((int) rows);
        ParameterAveragingTrainer.Result<MultiLayerNetwork> result = trainFloat(spark, input, info, config, cores);
        double rate = result.epochs().get(result.epochs().size() - 1).samplesPerSecond();
        rates.add(rate);
        console.printf("train %s %s: %.0f samples/s (%d rows, %d partitions, last of %d epochs)%n", preset,
            master, rate, result.rows(), cores, epochs);
        console.flush();
        if (model == null) {
          ByteArrayOutputStream bytes = new ByteArrayOutputStream();
          ModelSerializer.writeModel(result.network(), bytes, false);
          model = bytes.toByteArray();
        }
        if (master.equals(masters.get(masters.size() - 1))) {
          readVersusInference(console, spark, info, model);
        }
      } finally {
        spark.stop();
      }
    }
    for (int i = 1; i < rates.size(); i++) {
      console.printf("speed-up %s vs %s: %.2fx%n", masters.get(i), masters.get(0), rates.get(i) / rates.get(0));
    }
    return 0;
  }

  /** Trains {@code config}'s preset on {@code input} with one partition per core. */
  static ParameterAveragingTrainer.Result<MultiLayerNetwork> trainFloat(SparkSession spark, Dataset<Row> input,
      DatasetInfo info, TrainConfig config, int cores) {
    TrainConfig perMaster = new TrainConfig(config.preset(), config.epochs(), config.batchSize(), cores,
        config.seed(), config.learningRate(), config.learningRateDecay(), config.localSteps());
    return new ParameterAveragingTrainer(perMaster).fit(spark, input, info, s -> { });
  }

  /**
   * Parquet read: every row of the dataset decoded into batches. Inference: the first --rows rows, cached
   * and spread over the cores first, so only the model is timed.
   */
  private void readVersusInference(PrintWriter console, SparkSession spark, DatasetInfo info, byte[] model) {
    Dataset<Row> all = TensorDatasets.load(spark, data).rows();
    Preset p = Preset.fromCliName(preset);
    all.javaRDD().mapPartitions(it -> countBatches(it, info, p)).reduce(Long::sum); // warm caches and JIT
    long start = System.nanoTime();
    long read = all.javaRDD().mapPartitions(it -> countBatches(it, info, p)).reduce(Long::sum);
    double readRate = read / ((System.nanoTime() - start) / 1e9);

    int cores = spark.sparkContext().defaultParallelism();
    Dataset<Row> sample = all.limit((int) rows).repartition(cores).persist(StorageLevel.MEMORY_ONLY());
    sample.count();
    Scoring.Scored scored = Scoring.predictions(spark, model, "bench-model", sample, info, 256);
    scored.predictions().javaRDD().count(); // deserializes the model once per JVM
    start = System.nanoTime();
    long scoredRows = scored.predictions().javaRDD().count();
    double inferenceRate = scoredRows / ((System.nanoTime() - start) / 1e9);
    scored.destroy();
    sample.unpersist();
    console.printf("parquet read -> batches: %.0f rows/s (%d rows); %s inference on cached rows: %.0f rows/s"
        + " (%d rows, %s); ratio read/inference %.1f%n", readRate, read, preset, inferenceRate, scoredRows,
        spark.sparkContext().master(), readRate / inferenceRate);
    console.flush();
  }

  private static Iterator<Long> countBatches(Iterator<Row> rows, DatasetInfo info, Preset preset) {
    long n = 0;
    Iterator<DataSet> batches = Batches.iterator(rows, info, 256, preset.layout());
    while (batches.hasNext()) {
      n += batches.next().numExamples();
    }
    return Collections.singletonList(n).iterator();
  }
}
