package io.sparkquant.jobs.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.jobs.calib.CalibrateJob;
import io.sparkquant.jobs.calib.Calibrator;
import io.sparkquant.jobs.convert.ConvertJob;
import io.sparkquant.jobs.convert.IdxFiles;
import io.sparkquant.jobs.eval.EvaluateJob;
import io.sparkquant.jobs.eval.TfliteEngine;
import io.sparkquant.jobs.output.HadoopFiles;
import io.sparkquant.jobs.output.OutputDir;
import io.sparkquant.jobs.output.OutputFiles;
import io.sparkquant.jobs.qat.QatJob;
import io.sparkquant.jobs.quantize.QuantizeJob;
import io.sparkquant.jobs.train.Schedule;
import io.sparkquant.jobs.train.Preset;
import io.sparkquant.jobs.train.TrainConfig;
import io.sparkquant.jobs.train.TrainJob;
import io.sparkquant.ops.calib.BinLayout;
import io.sparkquant.ops.export.ExportMode;
import io.sparkquant.ops.export.ExportOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole chain as one rerunnable job: convert (when the data are IDX files) -> train (or a given model) ->
 * calibrate -> quantize (each configured mode) -> qat (optional) -> evaluate -> report -> gate, every output under
 * the config's root. Each step calls its job ({@link TrainJob}, {@link CalibrateJob}, {@link QuantizeJob},
 * {@link QatJob}, {@link EvaluateJob}), never a command line. A step whose outputs exist with a record matching its
 * resolved options and input hashes is skipped ({@link StepRecords}); Spark starts only when a step must run.
 *
 * <p>Layout under the root: {@code data/{train,test}}, {@code model/model.zip}, {@code calib/table.json},
 * {@code quant/model-<mode>.tflite}, {@code qat/}, {@code eval/}, {@code report/summary.json} and the step records in
 * {@code pipeline/}.
 */
public final class PipelineJob {

  private static final Logger LOG = LoggerFactory.getLogger(PipelineJob.class);

  /** The label of the float model in the report and the gate. */
  public static final String FLOAT_LABEL = "float";
  /** The label of the QAT model's int8 export. */
  public static final String QAT_LABEL = "qat-int8";

  /** The steps in order; {@code --step} runs up to and including one. */
  public enum Step {
    CONVERT, TRAIN, CALIBRATE, QUANTIZE, QAT, EVALUATE, REPORT, GATE;

    public String cliName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Step fromCliName(String name) {
      for (Step s : values()) {
        if (s.cliName().equals(name)) {
          return s;
        }
      }
      throw new IllegalArgumentException("unknown step '" + name + "'; valid: "
          + java.util.Arrays.stream(values()).map(Step::cliName).toList());
    }
  }

  /** What the caller sees of a run (the CLI prints it). */
  public interface Listener {
    default void started(Step step) {}

    default void skipped(Step step) {}

    default void finished(Step step, long millis) {}

    /** One progress line of a training step (an epoch of train or qat). */
    default void progress(String line) {}
  }

  /**
   * Everything a run reads and writes, resolved before Spark starts.
   *
   * @param idx the IDX files to convert, or null when the data are Parquet datasets
   * @param quantized the .tflite of each configured mode, by mode name, in config order
   */
  public record Plan(PipelineConfig config, String root, FashionMnist.Location idx, String trainData,
      String testData, String model, String table, Map<String, String> quantized, String qatDir, String qatTflite,
      String evalDir, String summary) {

    /** The evaluated models by pipeline label: float first (the reference), then each mode, then QAT. */
    public Map<String, String> evaluatedModels() {
      Map<String, String> models = new LinkedHashMap<>();
      models.put(FLOAT_LABEL, model);
      models.putAll(quantized);
      if (config.qat() != null) {
        models.put(QAT_LABEL, qatTflite);
      }
      return models;
    }
  }

  /**
   * One row of the report.
   *
   * @param key the evaluation's key of the model (its file name), the column of predictions.parquet
   */
  public record ModelRow(String label, String key, String path, double accuracy, double dropVsFloat,
      double agreementWithFloat, long sizeBytes) {}

  /**
   * What the run did.
   *
   * @param ran steps that ran; {@code skipped} were up to date
   * @param evaluatedRows test rows the models were scored on (0 when the run stopped before the report)
   * @param models the report, or empty when the run stopped before it
   * @param gateFailures failed gate conditions (empty: passed, or no gate, or the run stopped before the gate)
   */
  public record Result(Plan plan, List<Step> ran, List<Step> skipped, long evaluatedRows, List<ModelRow> models,
      List<Gate.Failure> gateFailures) {}

  private PipelineJob() {}

  /** Resolves every path (and finds the IDX files) without Spark; fails on what cannot work. */
  public static Plan plan(Configuration conf, PipelineConfig c) {
    String root = HadoopFiles.qualified(conf, c.root());
    FashionMnist.Location idx = null;
    String trainData = c.data().train() == null ? null : HadoopFiles.qualified(conf, c.data().train());
    String testData = c.data().test() == null ? null : HadoopFiles.qualified(conf, c.data().test());
    if (c.data().idx() != null) {
      idx = FashionMnist.locate(c.data().idx().equals("auto") ? null : c.data().idx());
      trainData = root + "/data/train";
      testData = root + "/data/test";
    }
    String model = c.model() == null ? root + "/model/" + TrainJob.MODEL_FILE : HadoopFiles.qualified(conf, c.model());
    Map<String, String> quantized = new LinkedHashMap<>();
    for (String mode : c.quantize().modes()) {
      quantized.put(mode, root + "/quant/model-" + mode + ".tflite");
    }
    return new Plan(c, root, idx, trainData, testData, model, root + "/calib/table.json", quantized, root + "/qat",
        root + "/qat/" + QatJob.TFLITE_FILE, root + "/eval", root + "/report/summary.json");
  }

  /**
   * Runs the steps up to and including {@code until}, skipping those that are up to date.
   *
   * @param spark started on first use: a run whose steps are all up to date starts no Spark
   */
  public static Result run(Supplier<SparkSession> spark, Configuration conf, Plan plan, Step until,
      Listener listener) {
    PipelineConfig c = plan.config();
    StepRecords records = new StepRecords(conf, plan.root());
    List<Step> ran = new ArrayList<>();
    List<Step> skipped = new ArrayList<>();
    Runner runner = new Runner(records, listener, ran, skipped);

    if (plan.idx() != null && until.compareTo(Step.CONVERT) >= 0) {
      FashionMnist.Location idx = plan.idx();
      int partitions = c.data().partitions();
      runner.step(Step.CONVERT, Map.of("partitions", partitions, "classNames", FashionMnist.CLASS_NAMES),
          List.of(idx.trainImages(), idx.trainLabels(), idx.testImages(), idx.testLabels()),
          List.of(plan.trainData(), plan.testData()), () -> {
            ConvertJob.idx(spark.get(), new IdxFiles(idx.trainImages(), idx.trainLabels()), plan.trainData(), true,
                FashionMnist.CLASS_NAMES, partitions);
            ConvertJob.idx(spark.get(), new IdxFiles(idx.testImages(), idx.testLabels()), plan.testData(), true,
                FashionMnist.CLASS_NAMES, partitions);
          });
    }
    if (c.train() != null && until.compareTo(Step.TRAIN) >= 0) {
      PipelineConfig.Train t = c.train();
      TrainJob.Options options = new TrainJob.Options(plan.trainData(), null, plan.root() + "/model", true, t.rows(),
          new TrainConfig(Preset.fromCliName(t.preset()), t.epochs(), t.batchSize(), t.partitions(), t.seed(),
              t.learningRate(), TrainConfig.DEFAULT_LEARNING_RATE_DECAY, TrainConfig.DEFAULT_LOCAL_STEPS));
      runner.step(Step.TRAIN, options, List.of(plan.trainData()), List.of(options.out()),
          () -> TrainJob.run(spark.get(), options, stats -> listener.progress(stats.describe())));
    }
    if (until.compareTo(Step.CALIBRATE) >= 0) {
      PipelineConfig.Calibrate k = c.calibrate();
      CalibrateJob.Options options = new CalibrateJob.Options(plan.model(), plan.trainData(), plan.table(),
          k.method(), k.percentile(), k.rows(), 0, k.seed(), 0, Calibrator.DEFAULT_BATCH_SIZE,
          BinLayout.DEFAULT_TARGET_BINS, true);
      runner.step(Step.CALIBRATE, options, List.of(plan.model(), plan.trainData()),
          List.of(plan.table(), CalibrateJob.manifestPath(plan.table())),
          () -> CalibrateJob.run(spark.get(), options));
    }
    if (until.compareTo(Step.QUANTIZE) >= 0) {
      List<QuantizeJob.Options> exports = new ArrayList<>();
      List<String> outputs = new ArrayList<>();
      plan.quantized().forEach((mode, tflite) -> {
        ExportMode m = ExportMode.fromCliName(mode);
        exports.add(new QuantizeJob.Options(plan.model(), tflite, m, null, null, null, 0,
            m.needsRanges() ? plan.table() : null, null, null, 1000, 0, Calibrator.DEFAULT_BATCH_SIZE,
            c.quantize().perTensorWeights(), true));
        outputs.add(tflite);
        outputs.add(QuantizeJob.cardPath(tflite));
      });
      runner.step(Step.QUANTIZE, exports, List.of(plan.model(), plan.table()), outputs,
          () -> exports.forEach(o -> QuantizeJob.run(spark.get(), o)));
    }
    if (c.qat() != null && until.compareTo(Step.QAT) >= 0) {
      QatJob.Options options = qatOptions(c, plan);
      runner.step(Step.QAT, options, List.of(plan.model(), plan.trainData(), plan.table()), List.of(plan.qatDir()),
          () -> QatJob.run(spark.get(), options, stats -> listener.progress("qat " + stats.describe())));
    }
    if (until.compareTo(Step.EVALUATE) >= 0) {
      PipelineConfig.Evaluate e = c.evaluate();
      List<String> models = List.copyOf(plan.evaluatedModels().values());
      EvaluateJob.Options options = new EvaluateJob.Options(models, plan.testData(), plan.evalDir(), true,
          e.batchSize(), e.rows(), TfliteEngine.fromCliName(e.runtime()));
      List<String> inputs = new ArrayList<>(models);
      inputs.add(plan.testData());
      runner.step(Step.EVALUATE, options, inputs, List.of(plan.evalDir()), () -> EvaluateJob.run(spark.get(), options));
    }
    if (until.compareTo(Step.REPORT) < 0) {
      return new Result(plan, ran, skipped, 0, List.of(), List.of());
    }
    String metrics = plan.evalDir() + "/" + EvaluateJob.METRICS_FILE;
    Map<String, Object> reportOptions = new LinkedHashMap<>();
    reportOptions.put("models", plan.evaluatedModels());
    reportOptions.put("gate", c.gate());
    runner.step(Step.REPORT, reportOptions, List.of(metrics), List.of(plan.summary()),
        () -> writeSummary(conf, plan, metrics));
    JsonNode summary = readJson(conf, plan.summary());
    List<ModelRow> rows = new ArrayList<>();
    summary.get("models").forEach(m -> rows.add(OutputDir.json().convertValue(m, ModelRow.class)));
    List<Gate.Failure> failures = List.of();
    if (until == Step.GATE && c.gate() != null) {
      listener.started(Step.GATE);
      failures = gate(c.gate(), rows);
      ran.add(Step.GATE);
      listener.finished(Step.GATE, 0);
    }
    return new Result(plan, ran, skipped, summary.get("rows").asLong(), rows, failures);
  }

  /**
   * The one place the pipeline builds QAT options: fine-tuned from the pipeline's table, int8 scored on the test rows
   * every epoch, the quantize step's weight granularity, and resumed from its checkpoints after a killed run.
   */
  private static QatJob.Options qatOptions(PipelineConfig config, Plan plan) {
    PipelineConfig.Qat q = config.qat();
    Schedule schedule = new Schedule(q.epochs(), q.batchSize(), q.partitions(), q.seed(), q.learningRate(), 1.0,
        TrainConfig.DEFAULT_LOCAL_STEPS);
    return new QatJob.Options(plan.model(), plan.trainData(), plan.testData(), plan.table(), null,
        QatJob.DEFAULT_CALIBRATION_ROWS, plan.qatDir(), schedule, 0, q.rows(), config.quantize().perTensorWeights(),
        ExportOptions.IoType.FLOAT, QatJob.DEFAULT_FREEZE_RANGES_AFTER, QatJob.DEFAULT_RANGE_MOMENTUM, null, true,
        true);
  }

  /** Checks the gate on the report's rows. */
  static List<Gate.Failure> gate(Gate.Conditions conditions, List<ModelRow> rows) {
    Map<String, Gate.Figures> figures = new LinkedHashMap<>();
    double floatAccuracy = Double.NaN;
    for (ModelRow r : rows) {
      figures.put(r.label(), new Gate.Figures(r.accuracy(), r.agreementWithFloat()));
      if (r.label().equals(FLOAT_LABEL)) {
        floatAccuracy = r.accuracy();
      }
    }
    return Gate.check(conditions, floatAccuracy, figures);
  }

  /**
   * The report: per evaluated model its label, key, path, accuracy, drop against float, top-1 agreement and size,
   * read from the evaluation's metrics.json (so it is the same whether evaluate ran now or in an earlier run), and
   * the gate's verdict.
   */
  private static void writeSummary(Configuration conf, Plan plan, String metricsPath) {
    JsonNode metrics = readJson(conf, metricsPath);
    JsonNode models = metrics.get("models");
    List<Map.Entry<String, String>> labels = new ArrayList<>(plan.evaluatedModels().entrySet());
    if (models == null || models.size() != labels.size()) {
      throw new IllegalStateException(metricsPath + " holds " + (models == null ? 0 : models.size())
          + " models, the pipeline evaluated " + labels.size() + " " + plan.evaluatedModels().keySet());
    }
    double floatAccuracy = models.get(0).at("/metrics/accuracy").asDouble();
    List<ModelRow> rows = new ArrayList<>();
    for (int i = 0; i < labels.size(); i++) {
      JsonNode m = models.get(i);
      double accuracy = m.at("/metrics/accuracy").asDouble();
      rows.add(new ModelRow(labels.get(i).getKey(), m.get("key").asText(), labels.get(i).getValue(), accuracy,
          floatAccuracy - accuracy, m.at("/agreementWithReference/top1").asDouble(), m.get("sizeBytes").asLong()));
    }
    ObjectNode summary = OutputDir.json().createObjectNode();
    summary.put("rows", metrics.get("rows").asLong());
    summary.put("metrics", metricsPath);
    summary.set("models", OutputDir.json().valueToTree(rows));
    PipelineConfig c = plan.config();
    if (c.gate() != null) {
      List<Gate.Failure> failures = gate(c.gate(), rows);
      ObjectNode gate = summary.putObject("gate");
      gate.set("conditions", OutputDir.json().valueToTree(c.gate()));
      gate.put("passed", failures.isEmpty());
      ArrayNode lines = gate.putArray("failures");
      failures.forEach(f -> lines.add(f.line()));
    }
    try (OutputFiles out = OutputFiles.create(conf, true)) {
      out.writeJson(plan.summary(), summary);
      out.commit();
    }
  }

  private static JsonNode readJson(Configuration conf, String path) {
    try {
      return OutputDir.json().readTree(HadoopFiles.readString(conf, path));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot parse " + path, e);
    }
  }

  /** Runs or skips one step and keeps its record. */
  private record Runner(StepRecords records, Listener listener, List<Step> ran, List<Step> skipped) {

    void step(Step step, Object options, List<String> inputs, List<String> outputs, Runnable work) {
      JsonNode optionsJson;
      try {
        // Through text, as the record is read back: valueToTree keeps a long 42 a LongNode, parsing makes an IntNode.
        optionsJson = OutputDir.json().readTree(OutputDir.json().writeValueAsString(options));
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot serialize the options of step " + step.cliName(), e);
      }
      if (records.upToDate(step.cliName(), optionsJson, inputs, outputs)) {
        LOG.info("Step {} is up to date: skipped", step.cliName());
        skipped.add(step);
        listener.skipped(step);
        return;
      }
      for (String in : inputs) {
        if (!records.exists(in)) {
          throw new IllegalStateException("step " + step.cliName() + " needs " + in + ", which does not exist");
        }
      }
      listener.started(step);
      long t0 = System.nanoTime();
      records.remove(step.cliName());
      records.clearTemporaries(outputs);
      work.run();
      long millis = (System.nanoTime() - t0) / 1_000_000;
      records.write(step.cliName(), optionsJson, inputs, outputs, millis);
      ran.add(step);
      listener.finished(step, millis);
    }
  }
}
