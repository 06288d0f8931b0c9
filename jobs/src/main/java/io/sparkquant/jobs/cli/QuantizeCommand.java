package io.sparkquant.jobs.cli;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.jobs.output.OutputFiles;
import io.sparkquant.jobs.quantize.QuantizeJob;
import io.sparkquant.ops.calib.RangeMethod;
import io.sparkquant.ops.export.ExportMode;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.UnsupportedModelException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code sparkquant quantize}: DL4J model zip -> .tflite in one of the export modes, plus a model card JSON
 * ({@code <out>.json}, i.e. model.tflite -> model.json). Full-integer modes take activation ranges from a
 * calibration table, or calibrate ({@code --calibration-method}, min/max by default) on {@code --calibration-rows}
 * rows of a Parquet tensor dataset through the distributed calibrator (the rows with the smallest seeded id hash,
 * as {@code calibrate --rows}).
 * The work is {@link QuantizeJob}'s; this class parses and checks options and prints.
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
    description = "Convert a DL4J model (ModelSerializer zip) to a TFLite model: float32, float16, dynamic-range, "
        + "full int8 or 16x8.")
public final class QuantizeCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "DL4J ModelSerializer zip (MultiLayerNetwork or "
      + "ComputationGraph).")
  String model;

  @Option(names = "--mode", required = true,
      description = "Export mode: float32, float16, dynamic, int8, int16x8.")
  String mode;

  @Option(names = "--io", description = "Model input/output type for int8 mode: float (QUANTIZE/DEQUANTIZE at the "
      + "edges) or int8. Only valid with --mode int8. Default: float.")
  String io;

  @Option(names = "--per-tensor-weights", description = "Int8 mode only: one symmetric weight scale per CONV_2D / "
      + "DEPTHWISE_CONV_2D weight tensor instead of one per output channel, for accelerators and delegates that take "
      + "only per-tensor scales. Default: per-channel.")
  boolean perTensorWeights;

  @Option(names = "--calibration-data", description = "Parquet tensor dataset directory for activation ranges "
      + "(required by int8 and int16x8). Default: none.")
  String calibrationData;

  @Option(names = "--calibration-method", defaultValue = "minmax",
      description = "Range method of the calibration on --calibration-data, as `calibrate --method`: minmax, "
          + "percentile, entropy or mse. Default: ${DEFAULT-VALUE}.")
  String calibrationMethod;

  @Option(names = "--calibration-rows", defaultValue = "1000",
      description = "Rows of the calibration dataset to calibrate on (the smallest seeded id hashes, as "
          + "`calibrate --rows`). Default: ${DEFAULT-VALUE}.")
  int calibrationRows;

  @Option(names = "--calibration", description = "Calibration table (JSON) written by `sparkquant calibrate`: "
      + "activation ranges for int8/int16x8, instead of --calibration-data. Default: none.")
  String calibrationTable;

  @Option(names = "--batch-size", defaultValue = "" + Calibrator.DEFAULT_BATCH_SIZE,
      description = "Rows per interpreter run of the calibration, as `calibrate --batch-size` (the table does not"
          + " depend on it). Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(names = "--seed", defaultValue = "0",
      description = "Seed of the calibration sample (a hash of the row id), as `calibrate --seed`. "
          + "Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--input-shape", description = "Model input shape H,W,C (or F) for a model that records none "
      + "(e.g. a ComputationGraph with a convolutional input, trained elsewhere). Default: the shape recorded in the "
      + "model (SparkQuant's train records it), else the calibration data's, else the calibration table's.")
  String inputShape;

  @Option(names = "--float-layers", split = ",", description = "Graph nodes (as `sparkquant inspect` names them) "
      + "kept in float inside an int8/int16x8 model: DEQUANTIZE before, QUANTIZE after, float weights. Default: none.")
  List<String> floatLayers;

  @Option(names = "--keep-float", defaultValue = "0", description = "Keep the N weight layers whose quantization "
      + "adds the most error in float: ranked by the noise-to-signal ratio each layer adds (output minus input, "
      + "float32 vs fully quantized export on the calibration sample; needs --calibration-data). "
      + "Default: ${DEFAULT-VALUE}.")
  int keepFloat;

  @Option(names = "--out", required = true, description = "Output .tflite file; the model card goes to the same "
      + "name with .json.")
  String out;

  @Option(names = "--overwrite", description = "Replace --out and its model card if they exist. Default: false.")
  boolean overwrite;

  @CommandLine.Mixin SparkOptions sparkOptions;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    QuantizeJob.Options options = options();
    SparkSession spark = options.calibrationData() != null ? sparkOptions.session("sparkquant quantize") : null;
    QuantizeJob.Result result;
    try {
      result = QuantizeJob.run(spark, options);
    } catch (Dl4jImporter.InputShapeRequiredException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage() + "; use --input-shape H,W,C");
    } catch (UnsupportedModelException e) {
      UnsupportedModelException located = new UnsupportedModelException(model + " cannot be exported: "
          + e.getMessage());
      located.initCause(e);
      throw located;
    }
    spec.commandLine().getOut().println(out + " " + result.export().tflite().length + " bytes ("
        + options.mode().cliName() + ")");
    return 0;
  }

  /** Checks option values and interactions before any work; throws a ParameterException naming the option. */
  QuantizeJob.Options options() {
    ExportMode m = validate();
    ExportOptions.IoType ioType = io == null ? ExportOptions.IoType.FLOAT
        : ExportOptions.IoType.valueOf(io.toUpperCase(Locale.ROOT));
    int[] shape = inputShape == null ? null : DatasetInfo.parseShape(inputShape);
    return new QuantizeJob.Options(model, out, m, ioType, shape,
        floatLayers == null ? Set.of() : Set.copyOf(floatLayers), keepFloat,
        m.needsRanges() ? calibrationTable : null, m.needsRanges() ? calibrationData : null, calibrationMethod,
        calibrationRows, seed, batchSize, perTensorWeights, overwrite);
  }

  /** The export mode, after checking every option value and interaction. */
  private ExportMode validate() {
    CommandLine cl = spec.commandLine();
    ExportMode m;
    try {
      m = ExportMode.fromCliName(mode);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, "--mode: " + e.getMessage());
    }
    if (io != null) {
      if (!io.equalsIgnoreCase("float") && !io.equalsIgnoreCase("int8")) {
        throw new CommandLine.ParameterException(cl, "--io must be float or int8, got '" + io + "'");
      }
      if (m != ExportMode.INT8) {
        throw new CommandLine.ParameterException(cl, "--io is only valid with --mode int8 (got --mode " + mode + ")");
      }
    }
    if (perTensorWeights && m != ExportMode.INT8) {
      throw new CommandLine.ParameterException(cl, "--per-tensor-weights is only valid with --mode int8 (got --mode "
          + mode + ")");
    }
    if (m.needsRanges() && (calibrationData == null) == (calibrationTable == null)) {
      throw new CommandLine.ParameterException(cl, "--mode " + m.cliName() + " needs exactly one of "
          + "--calibration-data DIR (a Parquet tensor dataset) or --calibration TABLE.json for activation ranges");
    }
    if (!m.needsRanges() && calibrationTable != null) {
      throw new CommandLine.ParameterException(cl, "--calibration is only used by --mode int8 and int16x8");
    }
    if (!m.needsRanges() && calibrationData != null) {
      throw new CommandLine.ParameterException(cl, "--calibration-data is only used by --mode int8 and int16x8");
    }
    try {
      RangeMethod.parse(calibrationMethod, null);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, "--calibration-method: " + e.getMessage());
    }
    if (keepFloat < 0) {
      throw new CommandLine.ParameterException(cl, "--keep-float must be >= 0, got " + keepFloat);
    }
    if ((keepFloat > 0 || floatLayers != null) && !m.needsRanges()) {
      throw new CommandLine.ParameterException(cl, "--keep-float and --float-layers keep layers in float inside an "
          + "int8 or int16x8 model; --mode " + m.cliName() + " has no integer layers");
    }
    if (keepFloat > 0 && floatLayers != null) {
      throw new CommandLine.ParameterException(cl, "give either --keep-float N or --float-layers NAMES, not both");
    }
    if (keepFloat > 0 && calibrationData == null) {
      throw new CommandLine.ParameterException(cl, "--keep-float ranks layers on rows of --calibration-data DIR");
    }
    if (calibrationRows < 1) {
      throw new CommandLine.ParameterException(cl, "--calibration-rows must be >= 1, got " + calibrationRows);
    }
    if (batchSize < 1) {
      throw new CommandLine.ParameterException(cl, "--batch-size must be >= 1, got " + batchSize);
    }
    try {
      CheckedPaths.requireFile(model, "--model");
      if (calibrationTable != null) {
        CheckedPaths.requireFile(calibrationTable, "--calibration");
      }
      if (calibrationData != null) {
        CheckedPaths.requireExists(calibrationData, "--calibration-data");
      }
      OutputFiles.checkWritable(new Configuration(), out, overwrite, "--out");
      OutputFiles.checkWritable(new Configuration(), QuantizeJob.cardPath(out), overwrite, "--out's model card");
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, e.getMessage(), e);
    }
    if (inputShape != null) {
      try {
        DatasetInfo.parseShape(inputShape);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(cl, "--input-shape: " + e.getMessage());
      }
    }
    return m;
  }

}
