package io.sparkquant.jobs.report;

import io.sparkquant.data.Batch;
import io.sparkquant.data.Batches;
import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.Layout;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.output.Manifest;
import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.report.HtmlReport;
import io.sparkquant.jobs.spark.ExecutorCache;
import io.sparkquant.ops.compare.LayerComparison;
import io.sparkquant.ops.compare.LayerError;
import io.sparkquant.ops.compare.TensorErrorStats;
import io.sparkquant.ops.tflite.TfliteModel;
import io.sparkquant.ops.tflite.TfliteReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-layer error of a quantized .tflite model against its float reference on the cluster: executors run both
 * models with the Java interpreter ({@link LayerComparison}) on their rows, accumulate exact mergeable sums
 * ({@link TensorErrorStats}) merged with treeAggregate, and the driver writes SQNR and max |error| per tensor in
 * graph order to {@code layer-report.json} and {@code report.html} (atomically, with {@code manifest.json}).
 * The numbers do not depend on the number of partitions.
 */
public final class LayerReportJob {

  private static final Logger LOG = LoggerFactory.getLogger(LayerReportJob.class);

  public static final String REPORT_JSON = "layer-report.json";
  public static final String REPORT_HTML = "report.html";

  private LayerReportJob() {}

  /**
   * @param rows rows to compare on: the first {@code rows} by a hash of (id, seed), so reruns use the same rows
   * @param partitions repartition the sample into this many partitions (0 = leave as read); results are identical
   */
  public record Options(String reference, String quantized, String data, String out, boolean overwrite, int rows,
      int seed, int batchSize, int partitions) {
    public Options {
      if (rows < 1) {
        throw new IllegalArgumentException("rows must be >= 1, got " + rows);
      }
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
      }
      if (partitions < 0) {
        throw new IllegalArgumentException("partitions must be >= 0 (0 = as read), got " + partitions);
      }
    }
  }

  /** A model's identity in the report. */
  public record ModelInfo(String file, long sizeBytes, String sha256) {}

  /** The content of layer-report.json. */
  public record Report(ModelInfo reference, ModelInfo quantized, long rows, int seed, List<LayerError> layers) {}

  public record Result(Report report, String outDir) {}

  public static Result run(SparkSession spark, Options options) {
    long start = System.nanoTime();
    try (OutputDir out = OutputDir.create(spark.sparkContext().hadoopConfiguration(), options.out(),
        options.overwrite())) {
      byte[] refBytes = HadoopFiles.readAllBytes(spark.sparkContext().hadoopConfiguration(), options.reference());
      byte[] qBytes = HadoopFiles.readAllBytes(spark.sparkContext().hadoopConfiguration(), options.quantized());
      // Fail on the driver, before any Spark work, if the models cannot be compared.
      LayerComparison driverSide = comparison(refBytes, qBytes, options.reference(), options.quantized());
      String key = "layer-report/" + ExecutorCache.sha256(refBytes) + "/" + ExecutorCache.sha256(qBytes);
      TensorDataset data = TensorDatasets.loadFeatures(spark, options.data(), null); // labels are not needed
      DatasetInfo info = data.info();
      Dataset<Row> sample = data.rows()
          .orderBy(functions.hash(functions.col(TensorDatasets.ID), functions.lit(options.seed())),
              functions.col(TensorDatasets.ID))
          .limit(options.rows());
      if (options.partitions() > 0) {
        sample = sample.repartition(options.partitions());
      }
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      Broadcast<byte[]> refB = jsc.broadcast(refBytes);
      Broadcast<byte[]> qB = jsc.broadcast(qBytes);
      String refName = options.reference();
      String qName = options.quantized();
      int batchSize = options.batchSize();
      int tensors = driverSide.tensors().size();
      Layout layout = info.shape().length == 3 ? Layout.NHWC : Layout.FLAT;
      TensorErrorStats stats;
      try {
        JavaRDD<TensorErrorStats> perPartition = sample.javaRDD().mapPartitions(it -> {
          // Parsed once per executor JVM; LayerComparison is immutable and thread-safe, so tasks share it.
          try (ExecutorCache.Lease<LayerComparison> c = ExecutorCache.lease(key,
              () -> comparison(refB.value(), qB.value(), refName, qName), same -> same)) {
            return Collections.singletonList(observe(c.value(), it, info, batchSize, layout)).iterator();
          }
        });
        stats = perPartition.treeAggregate(TensorErrorStats.empty(tensors), TensorErrorStats::merge,
            TensorErrorStats::merge, 2);
      } finally {
        refB.destroy();
        qB.destroy();
      }
      List<LayerError> layers = driverSide.result(stats);
      Report report = new Report(info(options.reference(), refBytes), info(options.quantized(), qBytes),
          stats.rows(), options.seed(), layers);
      out.writeJson(REPORT_JSON, report);
      out.writeBytes(REPORT_HTML, html(report).getBytes(StandardCharsets.UTF_8));
      long millis = (System.nanoTime() - start) / 1_000_000;
      new Manifest("layer-report", options).spark(spark)
          .input("reference", options.reference())
          .input("quantized", options.quantized())
          .input("data", options.data(), stats.rows())
          .duration("total", millis)
          .writeTo(out);
      out.commit();
      LOG.info("Layer report of {} tensors over {} rows in {} ms", tensors, stats.rows(), millis);
      return new Result(report, out.finalPath());
    }
  }

  private static TensorErrorStats observe(LayerComparison c, Iterator<Row> rows, DatasetInfo info, int batchSize,
      Layout layout) {
    TensorErrorStats stats = TensorErrorStats.empty(c.tensors().size());
    if (!rows.hasNext()) {
      return stats;
    }
    Iterator<Batch> batches = Batches.batchIterator(rows, info, batchSize, layout);
    while (batches.hasNext()) {
      Batch b = batches.next();
      c.observe(b.values(), b.size(), stats);
    }
    return stats;
  }

  private static LayerComparison comparison(byte[] ref, byte[] q, String refName, String qName) {
    return LayerComparison.of(parse(ref, refName), parse(q, qName));
  }

  private static TfliteModel parse(byte[] bytes, String name) {
    try {
      return TfliteReader.read(bytes);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Model " + name + " is not a readable .tflite flatbuffer: "
          + e.getMessage(), e);
    }
  }

  private static ModelInfo info(String path, byte[] bytes) {
    return new ModelInfo(new Path(path).getName(), bytes.length, ExecutorCache.sha256(bytes));
  }

  static String html(Report report) {
    HtmlReport r = new HtmlReport("SparkQuant per-layer error report");
    r.paragraph("Quantized " + report.quantized().file() + " (" + report.quantized().sizeBytes() + " bytes) against "
        + "reference " + report.reference().file() + " (" + report.reference().sizeBytes() + " bytes) on "
        + report.rows() + " rows (seed " + report.seed() + "). SQNR = 10 log10(Σ ref² / Σ err²); integer tensors "
        + "are dequantized with their scale and zero point. Tensors in graph order.");
    List<List<String>> rows = new ArrayList<>();
    List<String> names = new ArrayList<>();
    double[] sqnr = new double[report.layers().size()];
    for (int i = 0; i < report.layers().size(); i++) {
      LayerError e = report.layers().get(i);
      names.add(e.tensor());
      sqnr[i] = e.sqnrDb() == null ? Double.POSITIVE_INFINITY : e.sqnrDb();
      rows.add(List.of(e.tensor(), e.op(), e.type(), Long.toString(e.elements()),
          e.sqnrDb() == null ? "exact" : String.format(Locale.ROOT, "%.2f", e.sqnrDb()),
          String.format(Locale.ROOT, "%.5g", e.maxAbsError()), String.format(Locale.ROOT, "%.5g", e.rmsError()),
          String.format(Locale.ROOT, "%.5g", e.referenceRms())));
    }
    r.table(List.of("tensor", "op", "type", "elements", "SQNR (dB)", "max |error|", "RMS error", "reference RMS"),
        rows);
    r.barChart("SQNR per tensor (dB; higher is better)", names, sqnr, "%.2f");
    return r.render();
  }
}
