package io.sparkquant.jobs.train;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.train.EpochStats;
import io.sparkquant.jobs.train.ParameterAveragingTrainer;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.ops.graph.ModelMetadata;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Consumer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a preset network on a Parquet tensor dataset with {@link ParameterAveragingTrainer} and writes
 * {@code model.zip} (ModelSerializer, with updater state, plus the dataset's input shape and class names as
 * {@link ModelMetadata}) and {@code manifest.json} atomically into
 * {@code out}. The model is written by the driver, so this runs unchanged under spark-submit.
 */
public final class TrainJob {

  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

  public static final String MODEL_FILE = "model.zip";

  private TrainJob() {}

  /**
   * Where to read and write; {@code train} holds the training options.
   *
   * @param limit use only the first {@code limit} rows of {@code data} (0 = all), for quick runs
   * @param validation a labelled dataset scored after every epoch, or null
   */
  public record Options(String data, String validation, String out, boolean overwrite, long limit,
      TrainConfig train) {
    public Options {
      if (limit < 0) {
        throw new IllegalArgumentException("limit must be >= 0 (0 = all rows), got " + limit);
      }
    }
  }

  public record Result(String modelPath, String outDir, ParameterAveragingTrainer.Result<MultiLayerNetwork> training) {}

  public static Result run(SparkSession spark, Options options, Consumer<EpochStats> progress) {
    long start = System.nanoTime();
    try (OutputDir out = OutputDir.create(spark.sparkContext().hadoopConfiguration(), options.out(),
        options.overwrite())) {
      TensorDataset data = TensorDatasets.load(spark, options.data());
      DatasetInfo info = data.info();
      Dataset<Row> rows = data.rows();
      if (options.limit() > 0) {
        rows = TensorDatasets.firstRows(rows, options.limit());
      }
      Dataset<Row> validation = null;
      if (options.validation() != null) {
        TensorDataset v = TensorDatasets.load(spark, options.validation());
        if (!v.info().equals(info)) {
          throw new IllegalArgumentException("Validation dataset " + options.validation() + " has " + v.info()
              + ", the training dataset " + options.data() + " has " + info + "; they must agree");
        }
        // every row now, before the first epoch: a bad row would otherwise surface only when the epoch is scored
        v.checkRows();
        validation = v.rows();
      }
      ParameterAveragingTrainer.Result<MultiLayerNetwork> result =
          new ParameterAveragingTrainer(options.train()).fit(spark, rows, validation, info, progress);
      // The zip records what export and evaluation need (input shape, class names) next to the network.
      ByteArrayOutputStream zip = new ByteArrayOutputStream();
      try {
        ModelSerializer.writeModel(result.network(), zip, true);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot serialize the trained network", e);
      }
      out.writeBytes(MODEL_FILE, new ModelMetadata(info.shape(), info.classNames()).addTo(zip.toByteArray()));
      new Manifest("train", options)
          .spark(spark)
          .input("train", options.data(), result.rows())
          .put("partitions", result.partitions())
          .put("parameters", result.network().numParams())
          .put("epochs", result.epochs())
          .put("datasetShape", info.shape())
          .put("classNames", info.classNames())
          .duration("train", result.trainMillis())
          .duration("total", (System.nanoTime() - start) / 1_000_000)
          .writeTo(out);
      out.commit();
      LOG.info("Model written to {}", out.finalPath(MODEL_FILE));
      return new Result(out.finalPath(MODEL_FILE), out.finalPath(), result);
    }
  }
}
