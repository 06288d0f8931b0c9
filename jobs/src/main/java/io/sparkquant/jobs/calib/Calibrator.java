package io.sparkquant.jobs.calib;

import static org.apache.spark.sql.functions.col;

import io.sparkquant.data.ColumnTypes;
import io.sparkquant.data.InvalidDatasetException;
import io.sparkquant.jobs.spark.ExecutorCache;
import io.sparkquant.ops.calib.BinLayout;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.calib.HistogramStats;
import io.sparkquant.ops.calib.MinMaxStats;
import io.sparkquant.ops.calib.ModelStats;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Distributed calibration in the Spark ML style: configure with setters, then {@link #fit} a DataFrame of rows
 * ({@code features} in the model's NHWC order, as array&lt;float&gt;, array&lt;double&gt; or a Spark ML Vector;
 * {@code id} of an integral type) to get a {@link CalibrationTable}.
 *
 * <p>How the table comes out independent of partitioning and row order:
 * <ol>
 *   <li>Sampling keeps a row by a seeded hash of its id ({@code --fraction}: hash below the fraction;
 *       {@code --rows N}: the N smallest hashes, found by a mergeable top-N over the id column).
 *   <li>The observed model is the graph's float32 export (BatchNorm folded, activations fused: the tensors the int8
 *       export quantizes, under the same names), run by the Java interpreter's float32 kernels on the executors,
 *       where the rows are: those kernels compute each row on its own, so a row's tensors do not depend on which
 *       rows share its run. (DL4J's do: the second convolution of a small CNN differs in the last bits between a
 *       batch of 64 and the same rows split 17 + 47; the DL4J-based calibrator shuffled every row into canonical
 *       batches for that.) No shuffle: each partition observes its sampled rows in the order they come.
 *   <li>Pass 1 merges per-partition {@link MinMaxStats} with {@code treeAggregate}; when the method needs it,
 *       pass 2 merges {@link HistogramStats} over bin edges fixed from pass 1. Both are exact, order-free merges.
 * </ol>
 * The float32 export travels as .tflite bytes in a broadcast and each executor JVM builds one interpreter from them
 * ({@link CalibrationModel}), shared by its tasks.
 */
public final class Calibrator {

  private static final Logger LOG = LoggerFactory.getLogger(Calibrator.class);

  public static final int DEFAULT_BATCH_SIZE = 64;
  static final String SOURCE = "the calibration rows";
  public static final int DEFAULT_TREE_DEPTH = 2;

  private byte[] modelBytes;
  private Graph graph;
  private int[] inputShape;
  private RangeMethod method = RangeMethod.minMax();
  private int batchSize = DEFAULT_BATCH_SIZE;
  private long sampleRows;
  private double sampleFraction;
  private long seed;
  private int partitions;
  private int histogramBins = BinLayout.DEFAULT_TARGET_BINS;
  private int treeDepth = DEFAULT_TREE_DEPTH;
  private String featuresCol = "features";
  private String idCol = "id";
  /** The model's import and float32 export, made on the first fit and kept until the model or shape changes. */
  private Observed observed;

  /** The graph a fit observes, its checked float32 export as broadcast, and the export's SHA-256 (its cache key). */
  private record Observed(Graph graph, byte[] tflite, String sha256) {
    Observed(Graph graph, byte[] tflite) {
      this(graph, tflite, ExecutorCache.sha256(tflite));
    }
  }

  /** What a fit did, for logs and manifests. */
  public record Run(CalibrationTable table, long rows, int partitions, long samplingMillis, long minMaxMillis,
      long histogramMillis) {}

  /** The float model as a DL4J ModelSerializer zip (MultiLayerNetwork or ComputationGraph). */
  public Calibrator setModel(byte[] modelZip) {
    if (modelZip == null || modelZip.length == 0) {
      throw new IllegalArgumentException("model bytes must be a non-empty DL4J ModelSerializer zip");
    }
    this.modelBytes = modelZip.clone();
    this.observed = null;
    return this;
  }

  /**
   * The graph to calibrate instead of the model's own import (e.g. the fine-tuned float graph of QAT,
   * {@code QatNetwork.observableGraph()}): its float32 export is observed the same way; null (default) imports the
   * model.
   */
  public Calibrator setGraph(Graph graph) {
    this.graph = graph;
    this.observed = null;
    return this;
  }

  public Calibrator setModel(Path modelZip) {
    try {
      return setModel(Files.readAllBytes(modelZip));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read model " + modelZip, e);
    }
  }

  /**
   * The model input's shape, HWC (e.g. 28,28,1) or [F]; null (default) takes the shape the model records
   * ({@link io.sparkquant.ops.graph.ModelMetadata}), else lets the importer infer it.
   */
  public Calibrator setInputShape(int[] shape) {
    this.inputShape = shape == null ? null : shape.clone();
    this.observed = null;
    return this;
  }

  public Calibrator setMethod(RangeMethod method) {
    if (method == null) {
      throw new IllegalArgumentException("method must not be null");
    }
    this.method = method;
    return this;
  }

  /** Rows per interpreter run on an executor (the table does not depend on it); default 64. */
  public Calibrator setBatchSize(int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    }
    this.batchSize = batchSize;
    return this;
  }

  /** Calibrate on exactly this many rows (the smallest seeded id hashes); 0 (default) means no row limit. */
  public Calibrator setSampleRows(long rows) {
    if (rows < 0 || rows > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("sample rows must be in [0, " + Integer.MAX_VALUE + "], got " + rows);
    }
    this.sampleRows = rows;
    return this;
  }

  /** Calibrate on this fraction of rows, by seeded id hash; 0 (default) means no fraction. */
  public Calibrator setSampleFraction(double fraction) {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException("sample fraction must be in [0, 1] (0 = no fraction), got " + fraction);
    }
    this.sampleFraction = fraction;
    return this;
  }

  public Calibrator setSeed(long seed) {
    this.seed = seed;
    return this;
  }

  /**
   * Partitions the sampled rows are observed in: 0 (default) keeps the input's partitions, unless they are fewer
   * than Spark's default parallelism (then the sample is spread over that many, so every core works); N &gt; 0
   * spreads the sample over N. The table does not depend on it.
   */
  public Calibrator setPartitions(int partitions) {
    if (partitions < 0) {
      throw new IllegalArgumentException("partitions must be >= 0, got " + partitions);
    }
    this.partitions = partitions;
    return this;
  }

  public Calibrator setHistogramBins(int bins) {
    if (bins < 2) {
      throw new IllegalArgumentException("histogram bins must be >= 2, got " + bins);
    }
    this.histogramBins = bins;
    return this;
  }

  public Calibrator setTreeDepth(int depth) {
    if (depth < 1) {
      throw new IllegalArgumentException("tree depth must be >= 1, got " + depth);
    }
    this.treeDepth = depth;
    return this;
  }

  public Calibrator setFeaturesCol(String name) {
    this.featuresCol = name;
    return this;
  }

  public Calibrator setIdCol(String name) {
    this.idCol = name;
    return this;
  }

  /** Calibrates on {@code rows}; see the class comment. */
  public CalibrationTable fit(Dataset<Row> rows) {
    return fitRun(rows).table();
  }

  /**
   * Calibrates on {@code rows} and reports what was done.
   *
   * @throws InvalidDatasetException for a row with a null id or bad features (naming the row id and index)
   * @throws IllegalArgumentException for an empty calibration set or non-finite activations (naming the tensors)
   */
  public Run fitRun(Dataset<Row> rows) {
    Observed model = observed();
    if (sampleRows > 0 && sampleFraction > 0) {
      throw new IllegalArgumentException("sample rows (" + sampleRows + ") and sample fraction (" + sampleFraction
          + ") are exclusive; set one");
    }
    StructType schema = rows.schema();
    DataType featuresType = columnType(schema, featuresCol);
    if (!ColumnTypes.isFeatureType(featuresType)) {
      throw wrongType(featuresCol, featuresType, ColumnTypes.FEATURES_ACCEPTED);
    }
    DataType idType = columnType(schema, idCol);
    if (!ColumnTypes.isIntegral(idType)) {
      throw wrongType(idCol, idType, ColumnTypes.ID_ACCEPTED);
    }
    // Internal rows of array<float> features: they are copied straight into a float[] (Rows would box every value).
    Dataset<Row> normalized = rows.select(
        ColumnTypes.featuresAsFloatArray(featuresCol, featuresType).as(featuresCol),
        col(idCol).cast(DataTypes.LongType).as(idCol));
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext());
    try {
      return SparkFailures.unwrap(() -> run(jsc, normalized, model));
    } finally {
      jsc.sc().setJobDescription(null);
    }
  }

  /** The graph whose float32 export {@link #fitRun} observes: {@link #setGraph}'s, else the model's import. */
  public Graph observedGraph() {
    return observed().graph();
  }

  /**
   * The .tflite bytes {@link #fitRun} broadcasts and runs on the executors: the float32 export of
   * {@link #observedGraph()}, e.g. for scoring the same float model with the same interpreter.
   */
  public byte[] observedModel() {
    return observed().tflite().clone();
  }

  /**
   * Imports and exports once per model, not per fit: redoing both took 24 ms of a warm 1,050 ms fit of 6,000 rows
   * on local[2], time in which the executors wait (bench-calibrate).
   */
  private Observed observed() {
    if (modelBytes == null && graph == null) {
      throw new IllegalStateException("setModel(...) or setGraph(...) must be called before fit");
    }
    if (observed == null) {
      // A model SparkQuant trained records its input shape; an explicit one wins.
      Graph g = graph != null ? graph
          : importOnDriver(inputShape != null ? inputShape : Dl4jImporter.recordedInputShape(modelBytes));
      observed = new Observed(g, CalibrationModel.export(g));
    }
    return observed;
  }

  /**
   * The rows {@link #fitRun} observes for this sampling and seed (all columns kept, in the input's order), for
   * driver-side work that must see the same rows as the calibration.
   */
  public Dataset<Row> sample(Dataset<Row> rows) {
    DataType idType = columnType(rows.schema(), idCol);
    if (!ColumnTypes.isIntegral(idType)) {
      throw wrongType(idCol, idType, ColumnTypes.ID_ACCEPTED);
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext());
    Dataset<Row> ids = rows.select(col(idCol).cast(DataTypes.LongType).as(idCol));
    Sample chosen;
    try {
      chosen = SparkFailures.unwrap(() -> chooseSample(jsc, () -> ids.queryExecution().toRdd().toJavaRDD()));
    } finally {
      jsc.sc().setJobDescription(null);
    }
    return rows.filter(sampleFilter(chosen));
  }

  /** True for the rows of {@code chosen}: a UDF of the id column alone, so the rest of a row is not deserialized. */
  private Column sampleFilter(Sample chosen) {
    final long s = seed;
    UserDefinedFunction keep = functions.udf((UDF1<Long, Boolean>) id -> {
      if (id == null) {
        throw nullId();
      }
      return chosen.keep(SampleKeys.key(s, id), id);
    }, DataTypes.BooleanType);
    return keep.apply(col(idCol).cast(DataTypes.LongType));
  }

  /** @param rows the features (array&lt;float&gt;) and id (long) columns, in this order */
  private Run run(JavaSparkContext jsc, Dataset<Row> rows, Observed observedModel) {
    Graph graph = observedModel.graph();
    long t0 = System.nanoTime();
    Sample sample = chooseSample(jsc, () -> rows.select(idCol).queryExecution().toRdd().toJavaRDD());
    if (sample.rows() == 0) {
      throw emptySet();
    }
    int inputPartitions = rows.queryExecution().toRdd().getNumPartitions();
    int parallelism = jsc.sc().defaultParallelism();
    int observePartitions = partitions > 0 ? partitions : Math.max(inputPartitions, parallelism);
    Dataset<Row> observed = rows;
    if (observePartitions != inputPartitions) {
      // only to use the cores (or the partition count asked for): the table does not depend on where a row is.
      // Only the sampled rows are shuffled; the passes check the sample again, which keeps them all.
      observed = rows.filter(sampleFilter(sample)).repartition(observePartitions);
    }
    JavaRDD<InternalRow> input = observed.queryExecution().toRdd().toJavaRDD();
    long samplingMillis = (System.nanoTime() - t0) / 1_000_000;
    LOG.info("calibration set: {} rows ({}) over {} partitions; sampling took {} ms",
        sample.rows() == Sample.UNCOUNTED ? "pass 1 counts the" : sample.rows(), describeSampling(),
        observePartitions, samplingMillis);

    byte[] tflite = observedModel.tflite();
    String sha = observedModel.sha256();
    String[] tensors = CalibrationModel.tensorNames(graph);
    int[] graphInput = graph.input().shape();
    int[] itemShape = Arrays.copyOfRange(graphInput, 1, graphInput.length);
    Broadcast<byte[]> model = jsc.broadcast(tflite);
    try {
      long t1 = System.nanoTime();
      jsc.setJobDescription("calibrate: pass 1 (min/max)");
      PassStats<MinMaxStats> pass1 = input
          .mapPartitions(new ObservePartition<MinMaxStats>(sample, seed, sha, model, tensors, itemShape, batchSize,
              (tensor, current, values) -> (current == null ? MinMaxStats.empty() : current).addAll(values)))
          .treeAggregate(PassStats.<MinMaxStats>empty(), PassStats::merge, PassStats::merge, treeDepth);
      long minMaxMillis = (System.nanoTime() - t1) / 1_000_000;
      LOG.info("pass 1 (min/max): {} rows, {} tensors in {} ms", pass1.rows(), pass1.tensors().tensors().size(),
          minMaxMillis);
      if (pass1.rows() == 0) {
        throw emptySet();
      }
      if (sample.rows() != Sample.UNCOUNTED) {
        checkPass(pass1.rows(), sample.rows(), "pass 1");
      }

      ModelStats<HistogramStats> histograms = null;
      long histogramMillis = 0;
      if (method.needsHistogram()) {
        Map<String, BinLayout> layouts = layouts(pass1.tensors());
        Broadcast<HashMap<String, BinLayout>> layoutsBc = jsc.broadcast(new HashMap<>(layouts));
        try {
          long t2 = System.nanoTime();
          jsc.setJobDescription("calibrate: pass 2 (histograms)");
          PassStats<HistogramStats> pass2 = input
              .mapPartitions(new ObservePartition<HistogramStats>(sample, seed, sha, model, tensors, itemShape,
                  batchSize,
                  (tensor, current, values) -> (current == null ? emptyHistogram(layoutsBc.value(), tensor)
                      : current).addAll(values)))
              .treeAggregate(PassStats.<HistogramStats>empty(), PassStats::merge, PassStats::merge, treeDepth);
          histogramMillis = (System.nanoTime() - t2) / 1_000_000;
          LOG.info("pass 2 (histograms, {} bins): {} rows in {} ms", histogramBins, pass2.rows(), histogramMillis);
          checkPass(pass2.rows(), pass1.rows(), "pass 2");
          histograms = pass2.tensors();
        } finally {
          layoutsBc.destroy();
        }
      }
      // The table records the input shape the model was calibrated with, so exporting needs nothing else.
      CalibrationTable table = CalibrationTable.compute(method, pass1.tensors(), histograms)
          .withInputShape(Arrays.copyOfRange(graphInput, 1, graphInput.length))
          .withModelFingerprint(graph.fingerprint());
      return new Run(table, pass1.rows(), observePartitions, samplingMillis, minMaxMillis, histogramMillis);
    } finally {
      model.destroy();
    }
  }

  /** Pass 2's empty histogram of {@code tensor}, over the bin edges pass 1 fixed. */
  private static HistogramStats emptyHistogram(Map<String, BinLayout> layouts, String tensor) {
    BinLayout layout = layouts.get(tensor);
    if (layout == null) {
      throw new IllegalArgumentException("tensor '" + tensor + "' has no histogram layout; pass 1 observed "
          + layouts.keySet());
    }
    return HistogramStats.empty(layout);
  }

  private static DataType columnType(StructType schema, String name) {
    if (!Arrays.asList(schema.fieldNames()).contains(name)) {
      throw new IllegalArgumentException("calibration rows have no column '" + name + "'; found "
          + Arrays.toString(schema.fieldNames()));
    }
    return schema.apply(name).dataType();
  }

  private static IllegalArgumentException wrongType(String name, DataType found, String accepted) {
    return new IllegalArgumentException("calibration column '" + name + "' has type " + found.simpleString()
        + "; accepted types: " + accepted);
  }

  private Map<String, BinLayout> layouts(ModelStats<MinMaxStats> pass1) {
    Map<String, BinLayout> layouts = new HashMap<>();
    List<String> bad = new ArrayList<>();
    pass1.tensors().forEach((name, s) -> {
      if (s.nonFiniteCount() > 0 || s.count() == 0) {
        bad.add(name);
      } else {
        layouts.put(name, BinLayout.forRange(s, histogramBins));
      }
    });
    if (!bad.isEmpty()) {
      // Fail before the histogram pass, with the same message the table gives.
      CalibrationTable.compute(RangeMethod.minMax(), pass1, null);
    }
    return layouts;
  }

  private IllegalArgumentException emptySet() {
    return new IllegalArgumentException("empty calibration set: no row was selected (" + describeSampling()
        + "); give more rows or a larger fraction");
  }

  private static void checkPass(long observed, long expected, String pass) {
    if (observed != expected) {
      throw new IllegalStateException(pass + " fed " + observed + " rows to the model but " + expected
          + " were selected; the input changed while calibrating?");
    }
  }

  private Graph importOnDriver(int[] shape) {
    try {
      return Dl4jImporter.importModel(Dl4jImporter.load(modelBytes), shape);
    } catch (IOException e) {
      throw new IllegalArgumentException("the model is not a readable DL4J ModelSerializer zip: " + e.getMessage(), e);
    }
  }

  private String describeSampling() {
    if (sampleRows > 0) {
      return "the " + sampleRows + " rows with the smallest id hash, seed " + seed;
    }
    if (sampleFraction > 0) {
      return "fraction " + sampleFraction + " by id hash, seed " + seed;
    }
    return "all rows";
  }

  /**
   * Which rows are in: all, a hash fraction, or hash order up to a threshold pair.
   *
   * @param rows how many, or {@link #UNCOUNTED} when only pass 1 counts them (no row limit)
   */
  record Sample(long rows, double fraction, boolean limited, long lastKey, long lastId)
      implements java.io.Serializable {

    static final long UNCOUNTED = -1;

    boolean keep(long key, long id) {
      if (fraction > 0) {
        return SampleKeys.inFraction(key, fraction);
      }
      return !limited || SampleKeys.compare(key, id, lastKey, lastId) <= 0;
    }
  }

  /** @param ids the id column, planned only when a row limit needs it */
  private Sample chooseSample(JavaSparkContext jsc, Supplier<JavaRDD<InternalRow>> ids) {
    final long s = seed;
    if (sampleRows > 0) {
      jsc.setJobDescription("calibrate: choose " + sampleRows + " rows by id hash");
      final int limit = (int) sampleRows;
      SmallestKeys smallest = ids.get()
          .mapPartitions((Iterator<InternalRow> it) -> List.of(SmallestKeys.of(limit, keyIdPairs(it, s))).iterator())
          .treeReduce(SmallestKeys::merge, treeDepth);
      if (smallest.size() < sampleRows) {
        LOG.warn("asked for {} calibration rows but the input has only {}; using all of them", sampleRows,
            smallest.size());
        return new Sample(smallest.size(), 0, false, 0, 0);
      }
      long[] last = smallest.last();
      return new Sample(smallest.size(), 0, true, last[0], last[1]);
    }
    // Without a row limit the choice needs no job: a row's hash decides alone, and pass 1 counts the rows. (A
    // counting job here read the whole input once more per fit, on the driver's clock between the passes.)
    return new Sample(Sample.UNCOUNTED, sampleFraction, false, 0, 0);
  }

  private static Iterator<long[]> keyIdPairs(Iterator<InternalRow> ids, long seed) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return ids.hasNext();
      }

      @Override
      public long[] next() {
        long id = idOf(ids.next(), 0);
        return new long[] {SampleKeys.key(seed, id), id};
      }
    };
  }

  static long idOf(InternalRow row, int index) {
    if (row.isNullAt(index)) {
      throw nullId();
    }
    return row.getLong(index);
  }

  private static InvalidDatasetException nullId() {
    return InvalidDatasetException.atRow(SOURCE, "id", "a row", "a non-null long (ids choose the sample)", "null");
  }
}
