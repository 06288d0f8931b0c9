package io.sparkquant.jobs.ml;

import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.ops.calib.BinLayout;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.calib.RangeMethod;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.StructType;

/**
 * Distributed calibration as a Spark ML {@link Estimator}: {@code fit} runs {@link Calibrator} (the calibrate job's
 * calibrator, same sampling and merges) on a DataFrame and returns a {@link CalibrationTableModel} holding
 * the {@link CalibrationTable}. The same model file, method, rows and seed give the same table as
 * {@code sparkquant calibrate}, byte for byte. Params are plain values, so the estimator saves with Spark's
 * default writer.
 */
public final class CalibrationEstimator extends Estimator<CalibrationTableModel> implements DefaultParamsWritable {

  private final String uid;
  private final Param<String> modelPath;
  private final IntArrayParam inputShape;
  private final Param<String> method;
  private final DoubleParam percentile;
  private final LongParam rows;
  private final DoubleParam fraction;
  private final LongParam seed;
  private final IntParam batchSize;
  private final IntParam histogramBins;
  private final Param<String> featuresCol;
  private final Param<String> idCol;

  public CalibrationEstimator() {
    this(Identifiable$.MODULE$.randomUID("calibrationEstimator"));
  }

  /** Spark ML's readers construct stages from their uid. */
  public CalibrationEstimator(String uid) {
    this.uid = uid;
    modelPath = new Param<>(this, "modelPath", "float model (DL4J ModelSerializer zip), any Hadoop path");
    inputShape = new IntArrayParam(this, "inputShape", "row shape (HWC or [F]); default: the shape the model records");
    method = new Param<>(this, "method", "range method: minmax, percentile, entropy or mse");
    percentile = new DoubleParam(this, "percentile", "percentile of method 'percentile' (default 99.99)");
    rows = new LongParam(this, "rows", "calibrate on exactly N rows, the smallest seeded id hashes (0 = no limit)");
    fraction = new DoubleParam(this, "fraction", "calibrate on this fraction of rows by seeded id hash (0 = none)");
    seed = new LongParam(this, "seed", "seed of the id hash that chooses rows and batches");
    batchSize = new IntParam(this, "batchSize", "rows per interpreter run (the table does not depend on it)");
    histogramBins = new IntParam(this, "histogramBins", "histogram bins of the histogram methods");
    featuresCol = new Param<>(this, "featuresCol", "features column: array<float>, array<double> or Vector");
    idCol = new Param<>(this, "idCol", "unique integral row id column (chooses the sample and batches)");
    setDefault(method, "minmax");
    setDefault(rows, 0L);
    setDefault(fraction, 0.0);
    setDefault(seed, 0L);
    setDefault(batchSize, Calibrator.DEFAULT_BATCH_SIZE);
    setDefault(histogramBins, BinLayout.DEFAULT_TARGET_BINS);
    setDefault(featuresCol, "features");
    setDefault(idCol, "id");
  }

  public Param<String> modelPath() {
    return modelPath;
  }

  public IntArrayParam inputShape() {
    return inputShape;
  }

  public Param<String> method() {
    return method;
  }

  public DoubleParam percentile() {
    return percentile;
  }

  public LongParam rows() {
    return rows;
  }

  public DoubleParam fraction() {
    return fraction;
  }

  public LongParam seed() {
    return seed;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public IntParam histogramBins() {
    return histogramBins;
  }

  public Param<String> featuresCol() {
    return featuresCol;
  }

  public Param<String> idCol() {
    return idCol;
  }

  public CalibrationEstimator setModelPath(String path) {
    set(modelPath, path);
    return this;
  }

  public CalibrationEstimator setInputShape(int[] shape) {
    set(inputShape, shape.clone());
    return this;
  }

  /** Checked with the percentile when fitting (a percentile with another method is an error there). */
  public CalibrationEstimator setMethod(String name) {
    RangeMethod.parse(name, null);
    set(method, name);
    return this;
  }

  public CalibrationEstimator setPercentile(double value) {
    set(percentile, value);
    return this;
  }

  public CalibrationEstimator setRows(long n) {
    set(rows, n);
    return this;
  }

  public CalibrationEstimator setFraction(double f) {
    set(fraction, f);
    return this;
  }

  public CalibrationEstimator setSeed(long s) {
    set(seed, s);
    return this;
  }

  public CalibrationEstimator setBatchSize(int n) {
    set(batchSize, n);
    return this;
  }

  public CalibrationEstimator setHistogramBins(int n) {
    set(histogramBins, n);
    return this;
  }

  public CalibrationEstimator setFeaturesCol(String name) {
    set(featuresCol, name);
    return this;
  }

  public CalibrationEstimator setIdCol(String name) {
    set(idCol, name);
    return this;
  }

  @Override
  public String uid() {
    return uid;
  }

  /** Runs {@link Calibrator} with these params; its setters check every value before Spark starts. */
  @Override
  public CalibrationTableModel fit(Dataset<?> dataset) {
    if (!isDefined(modelPath)) {
      throw new IllegalArgumentException("modelPath must be set before fit");
    }
    byte[] model = HadoopFiles.readAllBytes(dataset.sparkSession().sparkContext().hadoopConfiguration(),
        getOrDefault(modelPath));
    Calibrator calibrator = new Calibrator()
        .setModel(model)
        .setInputShape(isDefined(inputShape) ? getOrDefault(inputShape) : null)
        .setMethod(RangeMethod.parse(getOrDefault(method), isDefined(percentile) ? (Double) getOrDefault(percentile)
            : null))
        .setSampleRows((Long) getOrDefault(rows))
        .setSampleFraction((Double) getOrDefault(fraction))
        .setSeed((Long) getOrDefault(seed))
        .setBatchSize((Integer) getOrDefault(batchSize))
        .setHistogramBins((Integer) getOrDefault(histogramBins))
        .setFeaturesCol(getOrDefault(featuresCol))
        .setIdCol(getOrDefault(idCol));
    CalibrationTable table = calibrator.fit(dataset.toDF());
    return new CalibrationTableModel(table).setParent(this);
  }

  /** The table does not depend on the schema; fit checks the columns. */
  @Override
  public StructType transformSchema(StructType schema) {
    return schema;
  }

  @Override
  public CalibrationEstimator copy(ParamMap extra) {
    return copyValues(new CalibrationEstimator(uid), extra);
  }

  public static MLReader<CalibrationEstimator> read() {
    return new DefaultParamsReader<>();
  }

  public static CalibrationEstimator load(String path) {
    return read().load(path);
  }
}
