package io.sparkquant.jobs;

import io.sparkquant.data.Batch;
import io.sparkquant.data.Batches;
import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.IdSample;
import io.sparkquant.data.Layout;
import io.sparkquant.data.TensorDataset;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.ops.calib.CalibrationTable;
import io.sparkquant.ops.compare.LayerComparison;
import io.sparkquant.ops.compare.LayerSensitivity;
import io.sparkquant.ops.compare.TensorErrorStats;
import io.sparkquant.ops.calib.ActivationRanges;
import io.sparkquant.ops.export.ExportMode;
import io.sparkquant.ops.export.ExportOptions;
import io.sparkquant.ops.export.MinMaxRanges;
import io.sparkquant.ops.export.ModelCard;
import io.sparkquant.ops.export.TfliteExporter;
import io.sparkquant.ops.graph.Dl4jActivations;
import io.sparkquant.ops.graph.Dl4jImporter;
import io.sparkquant.ops.graph.Graph;
import io.sparkquant.ops.graph.UnsupportedModelException;
import io.sparkquant.ops.tflite.TfliteWriter;
import io.sparkquant.ops.tflite.TfliteModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sparkquant quantize}: DL4J model zip -> .tflite in one of the export modes, plus a model card JSON
 * ({@code <out>.json}, i.e. model.tflite -> model.json). Full-integer modes take min/max activation ranges from
 * the first {@code --calibration-rows} rows of a Parquet tensor dataset in {@link IdSample} order (a seeded hash
 * of the row id); those rows are streamed to the driver, so keep the count small (the distributed calibrate job is the
 * path for large samples).
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
    description = "Convert a DL4J model (ModelSerializer zip) to a TFLite model: float32, float16, dynamic-range, "
        + "full int8 or 16x8.")
public final class QuantizeCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(QuantizeCommand.class);

  @Option(names = "--model", required = true, description = "DL4J ModelSerializer zip (MultiLayerNetwork or "
      + "ComputationGraph).")
  Path model;

  @Option(names = "--mode", required = true,
      description = "Export mode: float32, float16, dynamic, int8, int16x8.")
  String mode;

  @Option(names = "--io", description = "Model input/output type for int8 mode: float (QUANTIZE/DEQUANTIZE at the "
      + "edges) or int8. Only valid with --mode int8. Default: float.")
  String io;

  @Option(names = "--calibration-data", description = "Parquet tensor dataset directory for activation ranges "
      + "(required by int8 and int16x8). Default: none.")
  String calibrationData;

  @Option(names = "--calibration-rows", defaultValue = "1000",
      description = "Rows of the calibration dataset to observe. Default: ${DEFAULT-VALUE}.")
  int calibrationRows;

  @Option(names = "--calibration", description = "Calibration table (JSON) written by `sparkquant calibrate`: "
      + "activation ranges for int8/int16x8, instead of --calibration-data. Default: none.")
  Path calibrationTable;

  @Option(names = "--batch-size", defaultValue = "100",
      description = "Batch size for the calibration forward passes. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(names = "--seed", defaultValue = "42",
      description = "Seed of the calibration row order (a hash of the row id). Default: ${DEFAULT-VALUE}.")
  int seed;

  @Option(names = "--input-shape", description = "Model input shape H,W,C (or F) when the model does not record "
      + "it (a ComputationGraph with a convolutional input). Default: from the model, else the calibration data.")
  String inputShape;

  @Option(names = "--float-layers", split = ",", description = "Graph nodes (as `sparkquant inspect` names them) "
      + "kept in float inside an int8/int16x8 model: DEQUANTIZE before, QUANTIZE after, float weights. Default: none.")
  List<String> floatLayers;

  @Option(names = "--keep-float", defaultValue = "0", description = "Keep the N weight layers whose quantization "
      + "adds the most error in float: ranked by the noise-to-signal ratio each layer adds (output minus input, "
      + "float32 vs fully quantized export on the calibration rows; needs --calibration-data). "
      + "Default: ${DEFAULT-VALUE}.")
  int keepFloat;

  @Option(names = "--out", required = true, description = "Output .tflite file; the model card goes to the same "
      + "name with .json.")
  Path out;

  @CommandLine.Mixin SparkOptions sparkOptions;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    ExportMode exportMode = validate();
    long start = System.nanoTime();
    Model dl4j = Dl4jImporter.load(model);
    String sha256 = sha256(model);
    int[] shape = inputShape == null ? null : DatasetInfo.parseShape(inputShape);

    ActivationRanges ranges = null;
    SparkSession spark = null;
    TensorDataset calibration = null;
    if (exportMode.needsRanges() && calibrationData != null) {
      spark = sparkOptions.session("sparkquant quantize");
      calibration = TensorDatasets.load(spark, calibrationData);
      if (shape == null) {
        shape = calibration.info().shape();
      }
    }
    Graph graph;
    try {
      graph = Dl4jImporter.importModel(dl4j, shape);
    } catch (Dl4jImporter.InputShapeRequiredException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage() + "; use --input-shape H,W,C");
    } catch (UnsupportedModelException e) {
      LOG.debug("Import failed", e);
      spec.commandLine().getErr().println("quantize: " + model + " cannot be exported: " + e.getMessage());
      return 1;
    }
    LOG.info("Imported {} ({} nodes) from {}", graph, graph.nodes().size(), model);
    if (calibration != null) {
      ranges = resolveRanges(graph, dl4j, calibration);
    } else if (calibrationTable != null) {
      ranges = tableRanges(graph, CalibrationTable.read(calibrationTable));
    }
    ExportOptions.IoType ioType = io == null ? ExportOptions.IoType.FLOAT
        : ExportOptions.IoType.valueOf(io.toUpperCase(Locale.ROOT));
    ExportOptions options = new ExportOptions(exportMode, ioType, ranges, sha256, ProjectVersion.get());
    List<LayerSensitivity.Ranked> ranking = null;
    if (keepFloat > 0) {
      ranking = rankLayers(graph, options, calibration);
      options = options.withFloatNodes(ranking.stream().limit(keepFloat).map(LayerSensitivity.Ranked::node)
          .collect(Collectors.toSet()));
    } else if (floatLayers != null) {
      options = options.withFloatNodes(Set.copyOf(floatLayers));
    }
    TfliteModel tflite = TfliteExporter.export(graph, options);
    byte[] bytes = TfliteWriter.write(tflite);
    byte[] float32Bytes = exportMode == ExportMode.FLOAT32 ? bytes
        : TfliteWriter.write(TfliteExporter.export(graph, ExportOptions.of(ExportMode.FLOAT32)));

    Map<String, Object> extra = new LinkedHashMap<>();
    extra.put("float32SizeBytes", float32Bytes.length);
    extra.put("sizeRatioToFloat32", bytes.length / (double) float32Bytes.length);
    extra.put("sourceModel", model.toAbsolutePath().toString());
    extra.put("calibrationData", calibrationData);
    extra.put("calibrationRows", calibration == null ? null : calibrationRows);
    extra.put("calibrationTable", calibrationTable == null ? null : calibrationTable.toAbsolutePath().toString());
    extra.put("floatNodes", List.copyOf(options.floatNodes()));
    if (ranking != null) {
      extra.put("layerSensitivity", ranking);
    }
    extra.put("createdUtc", Instant.now().toString());
    byte[] card = ModelCard.toJson(ModelCard.describe(tflite, bytes.length, extra));
    writeAtomically(out, bytes);
    writeAtomically(cardPath(out), card);
    LOG.info("Wrote {} ({} bytes, {} of float32) and {} in {} ms", out, bytes.length,
        String.format(Locale.ROOT, "%.3f", bytes.length / (double) float32Bytes.length), cardPath(out),
        (System.nanoTime() - start) / 1_000_000);
    spec.commandLine().getOut().println(out + " " + bytes.length + " bytes (" + exportMode.cliName() + ")");
    return 0;
  }

  /** Checks option values and interactions before any work; throws a ParameterException naming the option. */
  ExportMode validate() {
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
    if (m.needsRanges() && (calibrationData == null) == (calibrationTable == null)) {
      throw new CommandLine.ParameterException(cl, "--mode " + m.cliName() + " needs exactly one of "
          + "--calibration-data DIR (a Parquet tensor dataset) or --calibration TABLE.json for activation ranges");
    }
    if (!m.needsRanges() && calibrationTable != null) {
      throw new CommandLine.ParameterException(cl, "--calibration is only used by --mode int8 and int16x8");
    }
    if (calibrationTable != null && !Files.isRegularFile(calibrationTable)) {
      throw new CommandLine.ParameterException(cl, "--calibration " + calibrationTable + " is not a file");
    }
    if (!m.needsRanges() && calibrationData != null) {
      throw new CommandLine.ParameterException(cl, "--calibration-data is only used by --mode int8 and int16x8");
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
    if (!Files.isRegularFile(model)) {
      throw new CommandLine.ParameterException(cl, "--model " + model + " is not a file");
    }
    Path parent = out.toAbsolutePath().getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new CommandLine.ParameterException(cl, "--out directory " + parent + " does not exist");
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

  /** Min/max over the first N rows by hash(id, seed) order; the place where a calibration table will plug in. */
  private ActivationRanges resolveRanges(Graph graph, Model dl4j, TensorDataset calibration) {
    long t0 = System.nanoTime();
    Iterator<Batch> batches = Batches.batchIterator(calibrationRows(calibration), calibration.info(), batchSize,
        Layout.FLAT);
    Iterator<INDArray> inputs = new Iterator<>() {
      @Override
      public boolean hasNext() {
        return batches.hasNext();
      }

      @Override
      public INDArray next() {
        return Dl4jActivations.toDl4jInput(graph, batches.next().features());
      }
    };
    ActivationRanges r = MinMaxRanges.collect(graph, dl4j, inputs);
    LOG.info("Min/max ranges of {} tensors from {} rows of {} in {} ms", r.asMap().size(), calibrationRows,
        calibration.source(), (System.nanoTime() - t0) / 1_000_000);
    return r;
  }

  /** The table's ranges; it must cover every graph tensor (a table from another model is rejected). */
  private ActivationRanges tableRanges(Graph graph, CalibrationTable table) {
    java.util.List<String> missing = graph.tensors().stream().map(t -> t.name())
        .filter(n -> !table.tensors().containsKey(n)).toList();
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("--calibration " + calibrationTable + " has no range for tensors " + missing
          + " of " + model + "; it covers " + table.tensors().keySet() + " (calibrate this model again)");
    }
    LOG.info("Ranges of {} tensors from calibration table {} (method {})", table.tensors().size(), calibrationTable,
        table.method().name());
    return table.toActivationRanges();
  }

  /**
   * Ranks weight layers by the error their quantization adds: exports the float32 and the fully quantized model
   * and compares them tensor by tensor ({@link LayerComparison}) on the calibration rows.
   */
  private List<LayerSensitivity.Ranked> rankLayers(Graph graph, ExportOptions quantized, TensorDataset calibration) {
    long t0 = System.nanoTime();
    LayerComparison comparison = LayerComparison.of(TfliteExporter.export(graph, ExportOptions.of(ExportMode.FLOAT32)),
        TfliteExporter.export(graph, quantized));
    TensorErrorStats stats = TensorErrorStats.empty(comparison.tensors().size());
    Iterator<Batch> batches = Batches.batchIterator(calibrationRows(calibration), calibration.info(), batchSize,
        Layout.FLAT);
    while (batches.hasNext()) {
      Batch b = batches.next();
      comparison.observe(b.features().data().asFloat(), b.size(), stats); // FLAT rows are NHWC in row-major order
    }
    List<LayerSensitivity.Ranked> ranking = LayerSensitivity.rank(graph, comparison.result(stats));
    LOG.info("Layer sensitivity on {} rows in {} ms (most sensitive first): {}", stats.rows(),
        (System.nanoTime() - t0) / 1_000_000, ranking);
    if (keepFloat > ranking.size()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--keep-float " + keepFloat + " exceeds the "
          + ranking.size() + " weight layers of the model");
    }
    return ranking;
  }

  /** The calibration rows, in the seeded order {@link #resolveRanges} observes them. */
  private Iterator<Row> calibrationRows(TensorDataset calibration) {
    return IdSample.first(calibration.rows(), calibrationRows, seed).toLocalIterator();
  }

  static Path cardPath(Path tflite) {
    String name = tflite.getFileName().toString();
    String base = name.endsWith(".tflite") ? name.substring(0, name.length() - ".tflite".length()) : name;
    return tflite.resolveSibling(base + ".json");
  }

  /** Writes to a temporary file in the target directory, then renames it over the target. */
  static void writeAtomically(Path target, byte[] bytes) throws IOException {
    // Not Files.createTempFile: its 0600 permissions would stick to the renamed output.
    Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      Files.write(tmp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}
