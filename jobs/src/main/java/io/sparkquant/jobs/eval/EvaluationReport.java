package io.sparkquant.jobs.eval;

import io.sparkquant.jobs.report.HtmlReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The report.html of an evaluation: summary table, accuracy, size and per-class F1 charts, confusion matrices. */
public final class EvaluationReport {

  private EvaluationReport() {}

  public static String html(List<ModelComparison.ModelReport> models, List<String> classNames, String data,
      long rows) {
    HtmlReport r = new HtmlReport("SparkQuant evaluation");
    r.paragraph(rows + " rows of " + data + "; reference model: " + models.get(0).key() + " ("
        + models.get(0).file() + "). Agreement is measured on the same rows against the reference.");
    List<List<String>> table = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    double[] accuracy = new double[models.size()];
    double[] sizeKb = new double[models.size()];
    double[][] f1 = new double[models.size()][classNames.size()];
    for (int k = 0; k < models.size(); k++) {
      ModelComparison.ModelReport m = models.get(k);
      keys.add(m.key());
      accuracy[k] = m.metrics().accuracy();
      sizeKb[k] = m.sizeBytes() / 1024.0;
      for (ClassificationMetrics.ClassMetrics c : m.metrics().perClass()) {
        f1[k][c.index()] = c.f1();
      }
      ModelComparison.Agreement a = m.agreementWithReference();
      table.add(List.of(m.key(), m.file(), m.format() + (m.runtime() == null ? "" : " (" + m.runtime() + ")"),
          Long.toString(m.sizeBytes()), f("%.4f", m.metrics().accuracy()), f("%.4f", m.metrics().weightedF1()),
          f("%.4f", a.top1()), f("%.5f", a.meanAbsProbDelta()), f("%.4f", a.maxAbsProbDelta())));
    }
    r.table(List.of("model", "file", "format", "size (bytes)", "accuracy", "weighted F1", "top-1 agreement",
        "mean |Δp|", "max |Δp|"), table);
    r.barChart("Accuracy per model", keys, accuracy, "%.4f");
    r.barChart("Model size per model (KiB)", keys, sizeKb, "%.1f");
    r.groupedBarChart("F1 per class", classNames, keys, f1, "%.3f");
    for (ModelComparison.ModelReport m : models) {
      r.heading(2, "Confusion matrix: " + m.key() + " (rows: true class, columns: predicted)");
      List<String> header = new ArrayList<>();
      header.add("true \\ predicted");
      header.addAll(classNames);
      List<List<String>> cm = new ArrayList<>();
      long[][] matrix = m.metrics().confusionMatrix();
      for (int i = 0; i < matrix.length; i++) {
        List<String> row = new ArrayList<>();
        row.add(classNames.get(i));
        for (long v : matrix[i]) {
          row.add(Long.toString(v));
        }
        cm.add(row);
      }
      r.table(header, cm);
    }
    return r.render();
  }

  private static String f(String format, double v) {
    return String.format(Locale.ROOT, format, v);
  }
}
