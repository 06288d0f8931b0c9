package io.sparkquant.jobs.train;

import io.sparkquant.data.Batches;
import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.Layout;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.eval.Scoring;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.NeuralNetwork;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous data-parallel training with parameter averaging, written directly on Spark (STACK.md
 * "Distributed training"). The training rows are repartitioned once and cached; each round
 * <ol>
 *   <li>broadcasts the parameters, the updater state and the iteration count,</li>
 *   <li>lets every partition fit its next {@code localSteps} minibatches (streamed from its rows with
 *       {@link Batches#iterator}) on its own copy of the network,</li>
 *   <li>sums parameters and updater state weighted by fitted samples with {@code treeAggregate}, and the
 *       driver takes the average; the broadcast is destroyed.</li>
 * </ol>
 * An epoch is as many rounds as the largest partition needs. Nothing is random except the seeded weight
 * initialization, so the same seed, data and partitioning give the same model.
 */
public final class ParameterAveragingTrainer {

  private static final Logger LOG = LoggerFactory.getLogger(ParameterAveragingTrainer.class);

  private final Preset preset;
  private final Schedule schedule;

  /** Trains the preset of {@code config} ({@link #fit(SparkSession, Dataset, Dataset, DatasetInfo, Consumer)}). */
  public ParameterAveragingTrainer(TrainConfig config) {
    this.preset = config.preset();
    this.schedule = config.schedule();
  }

  /**
   * Trains networks built by the caller ({@link #fit(SparkSession, Model, String, Layout, Dataset, Dataset,
   * DatasetInfo, EpochEnd)}): their updater holds the learning rate and its schedule.
   */
  public ParameterAveragingTrainer(Schedule schedule) {
    this.preset = null;
    this.schedule = schedule;
  }

  /** The result of {@link #fit}: the averaged network and per-epoch statistics. */
  public record Result<N extends Model & NeuralNetwork>(N network, List<EpochStats> epochs, long rows, int partitions,
      long trainMillis) {}

  /**
   * Called on the driver at the end of every epoch, after validation, with the network holding the averaged
   * parameters, updater state and counters of that epoch. It may change the network's configuration (e.g. the
   * fake-quant ranges) and its parameters (QAT snaps biases): the next epoch's workers are built from the
   * configuration and parameters as the hook leaves them. An exception it throws stops training.
   */
  @FunctionalInterface
  public interface EpochEnd<N> {
    void accept(N network, EpochStats stats);
  }

  /**
   * Thrown when a worker's loss or parameters became NaN or infinite in a round: training stops before that round is
   * averaged in, so the network keeps the state of the last complete epoch.
   */
  public static final class DivergedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public DivergedException(String message) {
      super(message);
    }

    public DivergedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Trains on {@code rows} (columns as {@code TensorDatasets.load} returns them).
   *
   * @param listener called on the driver after every epoch (progress output)
   */
  public Result<MultiLayerNetwork> fit(SparkSession spark, Dataset<Row> rows, DatasetInfo info,
      Consumer<EpochStats> listener) {
    return fit(spark, rows, null, info, listener);
  }

  /**
   * As {@link #fit(SparkSession, Dataset, DatasetInfo, Consumer)}, scoring {@code validation} (same info; null
   * for none) with the averaged model after every epoch.
   */
  public Result<MultiLayerNetwork> fit(SparkSession spark, Dataset<Row> rows, Dataset<Row> validation,
      DatasetInfo info, Consumer<EpochStats> listener) {
    if (preset == null) {
      throw new IllegalStateException("this trainer was given a schedule without a preset; pass a network to fit");
    }
    MultiLayerConfiguration conf = preset.configuration(info, schedule.seed(), schedule.learningRate(),
        schedule.learningRateDecay());
    MultiLayerNetwork network = new MultiLayerNetwork(conf);
    network.init();
    return fit(spark, network, preset.cliName(), preset.layout(), rows, validation, info,
        (net, stats) -> listener.accept(stats));
  }

  /**
   * Trains a network already built and initialized (a MultiLayerNetwork or a ComputationGraph with one input and
   * one output), starting from its parameters, updater state, iteration count and epoch count, with this schedule's
   * epochs, batch size, partitions and local steps: a network restored from a checkpoint written at the end of
   * epoch E (ModelSerializer with its updater) runs epochs E+1 to {@code epochs} exactly as an uninterrupted run
   * would. Workers rebuild the network from its configuration JSON, so whatever that configuration holds (e.g.
   * fake-quant hooks and their ranges) trains with it. The learning rate and its decay are the network's updater's.
   *
   * @param name what the log calls the network
   * @param layout the feature layout the network reads
   * @param validation labelled rows scored after every epoch, or null
   * @param epochEnd called on the driver after every epoch
   * @throws DivergedException when a worker's loss or parameters become NaN or infinite (the network keeps the last
   *     complete epoch's state)
   */
  public <N extends Model & NeuralNetwork> Result<N> fit(SparkSession spark, N network, String name, Layout layout,
      Dataset<Row> rows, Dataset<Row> validation, DatasetInfo info, EpochEnd<? super N> epochEnd) {
    int partitions = schedule.partitions() > 0 ? schedule.partitions() : spark.sparkContext().defaultParallelism();
    int firstEpoch = epochCount(network);
    LOG.info("Training {} ({} parameters) on {} partitions: epochs {} to {}, batch size {}, {} local steps per round",
        name, network.numParams(), partitions, firstEpoch + 1, schedule.epochs(), schedule.batchSize(),
        schedule.localSteps());

    // Hash-partition by id, then sort each partition by id: which rows a partition holds, and in which
    // order, depends only on the data, so local mode and any cluster see the same minibatches. (A
    // round-robin repartition fixes the assignment but not the order: a reducer reads its local shuffle
    // blocks before remote ones, so on a cluster the order differed from local mode; TrainEvaluateClusterIT.)
    Dataset<Row> training = rows.repartition(partitions, functions.col(TensorDatasets.ID))
        .sortWithinPartitions(TensorDatasets.ID)
        .persist(StorageLevel.MEMORY_AND_DISK());
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    long start = System.nanoTime();
    try {
      List<Long> partitionRows = training.javaRDD().mapPartitions(ParameterAveragingTrainer::count).collect();
      long totalRows = partitionRows.stream().mapToLong(Long::longValue).sum();
      long largest = Collections.max(partitionRows);
      if (totalRows == 0) {
        throw new IllegalArgumentException("The training data has no rows");
      }
      long rowsPerRound = (long) schedule.localSteps() * schedule.batchSize();
      int roundsPerEpoch = (int) ((largest + rowsPerRound - 1) / rowsPerRound);
      LOG.info("{} training rows, partition sizes {}; {} rounds per epoch", totalRows, partitionRows,
          roundsPerEpoch);

      float[] params = network.params().toFloatVector();
      float[] updaterState = updaterState(network);
      int iteration = iterationCount(network);
      int progressEvery = Math.max(1, roundsPerEpoch / 10); // about ten progress lines per epoch
      List<EpochStats> epochs = new ArrayList<>();
      for (int epoch = firstEpoch; epoch < schedule.epochs(); epoch++) {
        // rebuilt every epoch: an epoch-end hook may have changed the configuration
        WorkerTask task = new WorkerTask(configurationJson(network), network instanceof ComputationGraph, info,
            schedule.batchSize(), layout, schedule.localSteps());
        long epochStart = System.nanoTime();
        RoundStats epochSums = RoundStats.empty();
        for (int round = 0; round < roundsPerEpoch; round++) {
          Broadcast<WorkerState> state =
              jsc.broadcast(new WorkerState(params, updaterState, iteration, epoch, round));
          RoundStats sums;
          try {
            // names the job in progress lines and lets the fault-injection tests pick a round
            jsc.setJobDescription(String.format(java.util.Locale.ROOT, "train: epoch %d, round %d/%d", epoch + 1,
                round + 1, roundsPerEpoch));
            JavaRDD<Row> rdd = training.javaRDD();
            sums = rdd.mapPartitions(it -> task.fit(it, state.value()))
                .treeAggregate(RoundStats.empty(), RoundStats::merge, RoundStats::merge);
          } finally {
            jsc.setJobDescription(null);
            state.destroy();
          }
          if (sums.samples == 0) {
            break;
          }
          if (!Double.isFinite(sums.lossSum)) {
            throw new DivergedException(String.format(java.util.Locale.ROOT, "training diverged in epoch %d, round "
                + "%d/%d: the loss or the parameters are not finite (learning rate too high, or non-finite "
                + "features?); the last complete epoch is %d", epoch + 1, round + 1, roundsPerEpoch, epoch));
          }
          params = sums.averageParams();
          updaterState = sums.averageUpdaterState();
          iteration += sums.maxSteps;
          sums.weightedParams = null; // keep only the counters for the epoch summary
          sums.weightedUpdaterState = null;
          epochSums.merge(sums);
          if ((round + 1) % progressEvery == 0 && round + 1 < roundsPerEpoch) {
            LOG.info("epoch {}: round {}/{}, mean loss so far {}", epoch + 1, round + 1, roundsPerEpoch,
                String.format(java.util.Locale.ROOT, "%.4f", epochSums.lossSum / epochSums.samples));
          }
        }
        long millis = (System.nanoTime() - epochStart) / 1_000_000;
        WorkerState.apply(network, new WorkerState(params, updaterState, iteration, epoch + 1, 0));
        double validationAccuracy = validation == null ? Double.NaN
            : accuracy(spark, network, validation, info, epoch + 1);
        EpochStats stats = new EpochStats(epoch + 1, roundsPerEpoch, epochSums.samples,
            epochSums.lossSum / epochSums.samples,
            epochSums.accuracySamples == 0 ? Double.NaN
                : (double) epochSums.accuracyCorrect / epochSums.accuracySamples,
            epochSums.samples / Math.max(millis / 1000.0, 1e-3), millis, validationAccuracy);
        LOG.info(stats.describe());
        epochs.add(stats);
        epochEnd.accept(network, stats);
        // the next epoch starts from the network as the hook left it (QAT snaps its biases to the exported values)
        params = network.params().toFloatVector();
      }
      WorkerState.apply(network, new WorkerState(params, updaterState, iteration, schedule.epochs(), 0));
      return new Result<>(network, epochs, totalRows, partitions, (System.nanoTime() - start) / 1_000_000);
    } finally {
      training.unpersist();
    }
  }

  /** The updater state as one vector; empty for an updater without state (SGD). */
  static <N extends Model & NeuralNetwork> float[] updaterState(N network) {
    INDArray state = network.updaterState();
    return state == null ? new float[0] : state.toFloatVector();
  }

  private static String configurationJson(Model network) {
    return network instanceof ComputationGraph g ? g.getConfiguration().toJson()
        : ((MultiLayerNetwork) network).getLayerWiseConfigurations().toJson();
  }

  /** Epochs the network has completed (0 for a new one). */
  private static int epochCount(Model network) {
    return network instanceof ComputationGraph g ? g.getConfiguration().getEpochCount()
        : ((MultiLayerNetwork) network).getEpochCount();
  }

  private static int iterationCount(Model network) {
    return network instanceof ComputationGraph g ? g.getConfiguration().getIterationCount()
        : ((MultiLayerNetwork) network).getIterationCount();
  }

  /** Accuracy of the network on labelled rows, scored on the executors like the evaluate job does. */
  private static double accuracy(SparkSession spark, Model network, Dataset<Row> rows,
      DatasetInfo info, int epoch) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      ModelSerializer.writeModel(network, bytes, false);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot serialize the model of epoch " + epoch, e);
    }
    return accuracy(spark, bytes.toByteArray(), "epoch " + epoch, rows, info);
  }

  /** Accuracy of a model (DL4J zip or .tflite, on the Java interpreter) on labelled rows, scored on the executors. */
  public static double accuracy(SparkSession spark, byte[] model, String name, Dataset<Row> rows, DatasetInfo info) {
    Scoring.Scored scored = Scoring.predictions(spark, model, name, rows, info, 256);
    try {
      Row counts = scored.predictions()
          .agg(functions.count(functions.lit(1)),
              functions.sum(functions.when(functions.col("label").equalTo(functions.col("prediction")), 1)
                  .otherwise(0)))
          .first();
      return counts.isNullAt(1) ? Double.NaN : (double) counts.getLong(1) / counts.getLong(0);
    } finally {
      scored.model().destroy();
    }
  }

  private static Iterator<Long> count(Iterator<Row> rows) {
    long n = 0;
    while (rows.hasNext()) {
      rows.next();
      n++;
    }
    return Collections.singletonList(n).iterator();
  }

  /** What the driver broadcasts each round. */
  record WorkerState(float[] params, float[] updaterState, int iteration, int epoch, int round)
      implements Serializable {

    /** Loads this state into a network built from the same configuration. */
    static <N extends Model & NeuralNetwork> void apply(N net, WorkerState s) {
      net.setParams(Nd4j.createFromArray(s.params).reshape(1, s.params.length));
      INDArray view = net.updaterState();
      if (view != null) {
        view.assign(Nd4j.createFromArray(s.updaterState).reshape(view.shape()));
      }
      // Adam's bias correction depends on the iteration count
      if (net instanceof ComputationGraph g) {
        g.getConfiguration().setIterationCount(s.iteration);
        g.getConfiguration().setEpochCount(s.epoch);
      } else {
        ((MultiLayerNetwork) net).setIterationCount(s.iteration);
        ((MultiLayerNetwork) net).setEpochCount(s.epoch);
      }
    }
  }

  /** The per-partition work of one round; serialized into every task. */
  static final class WorkerTask implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String configurationJson;
    private final boolean graph;
    private final DatasetInfo info;
    private final int batchSize;
    private final Layout layout;
    private final int localSteps;

    WorkerTask(String configurationJson, boolean graph, DatasetInfo info, int batchSize, Layout layout,
        int localSteps) {
      this.configurationJson = configurationJson;
      this.graph = graph;
      this.info = info;
      this.batchSize = batchSize;
      this.layout = layout;
      this.localSteps = localSteps;
    }

    Iterator<RoundStats> fit(Iterator<Row> rows, WorkerState state) {
      long rowsPerRound = (long) localSteps * batchSize;
      long skip = state.round() * rowsPerRound;
      for (long i = 0; i < skip && rows.hasNext(); i++) {
        rows.next(); // this partition's earlier rounds
      }
      if (!rows.hasNext()) {
        return Collections.singletonList(RoundStats.empty()).iterator();
      }
      if (graph) {
        ComputationGraph net = new ComputationGraph(ComputationGraphConfiguration.fromJson(configurationJson));
        net.init();
        return fit(net, rows, state);
      }
      MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configurationJson));
      net.init();
      return fit(net, rows, state);
    }

    private <N extends Model & NeuralNetwork> Iterator<RoundStats> fit(N net, Iterator<Row> rows, WorkerState state) {
      long rowsPerRound = (long) localSteps * batchSize;
      WorkerState.apply(net, state);
      Iterator<DataSet> batches = Batches.iterator(limit(rows, rowsPerRound), info, batchSize, layout);
      long samples = 0;
      double lossSum = 0;
      long accuracySamples = 0;
      long accuracyCorrect = 0;
      int steps = 0;
      while (batches.hasNext()) {
        DataSet batch = batches.next();
        int n = batch.numExamples();
        if (steps == 0) {
          INDArray output = net instanceof ComputationGraph g ? g.output(false, batch.getFeatures())[0]
              : ((MultiLayerNetwork) net).output(batch.getFeatures(), false);
          INDArray predicted = output.argMax(1);
          INDArray actual = batch.getLabels().argMax(1);
          accuracyCorrect += predicted.eq(actual).castTo(org.nd4j.linalg.api.buffer.DataType.INT64)
              .sumNumber().longValue();
          accuracySamples += n;
        }
        net.fit(batch);
        double loss = net.score();
        lossSum += loss * n;
        samples += n;
        steps++;
        if (!Double.isFinite(loss) || !Double.isFinite(net.params().sumNumber().doubleValue())) {
          lossSum = Double.NaN; // diverged: stop here, the driver stops the training at this round
          break;
        }
      }
      return Collections.singletonList(RoundStats.ofWorker(net.params().toFloatVector(),
          updaterState(net), samples, lossSum, accuracySamples,
          accuracyCorrect, steps)).iterator();
    }

    private static <T> Iterator<T> limit(Iterator<T> it, long max) {
      return new Iterator<>() {
        long taken;

        @Override
        public boolean hasNext() {
          return taken < max && it.hasNext();
        }

        @Override
        public T next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          taken++;
          return it.next();
        }
      };
    }
  }
}
