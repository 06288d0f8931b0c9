package io.sparkquant.jobs.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Decides whether the pipeline's models may ship: every gated model must reach a minimum accuracy, lose at most a
 * maximum accuracy against the float model, and agree with the float model's top-1 on at least a fraction of rows.
 * Pure logic over the evaluation's figures (no Spark), so a scheduler can rerun just the gate.
 */
public final class Gate {

  private Gate() {}

  /**
   * What the gated models must meet; a null threshold is not checked.
   *
   * @param models pipeline labels of the models to check ({@code int8}, {@code dynamic}, {@code qat-int8}, ...)
   * @param maxDrop float accuracy minus model accuracy, as a fraction (0.01 = one point)
   */
  public record Conditions(List<String> models, Double minAccuracy, Double maxDrop, Double minAgreement) {
    public Conditions {
      models = List.copyOf(models);
    }
  }

  /** One evaluated model's figures. */
  public record Figures(double accuracy, double agreementWithFloat) {}

  /** One failed condition: which model, which key, the figure and the threshold, as one readable line. */
  public record Failure(String model, String condition, double value, double threshold, String line) {}

  /**
   * Checks every gated model; an empty list means the gate passes.
   *
   * @param figures by pipeline label; must hold every gated model
   */
  public static List<Failure> check(Conditions c, double floatAccuracy, Map<String, Figures> figures) {
    List<Failure> failures = new ArrayList<>();
    for (String model : c.models()) {
      Figures f = figures.get(model);
      if (f == null) {
        throw new IllegalArgumentException("the gate checks model '" + model + "' but the evaluation has only "
            + figures.keySet());
      }
      if (c.minAccuracy() != null && f.accuracy() < c.minAccuracy()) {
        failures.add(new Failure(model, "minAccuracy", f.accuracy(), c.minAccuracy(),
            fmt("%s accuracy %.4f < minAccuracy %.4f", model, f.accuracy(), c.minAccuracy())));
      }
      double drop = floatAccuracy - f.accuracy();
      if (c.maxDrop() != null && drop > c.maxDrop()) {
        failures.add(new Failure(model, "maxDrop", drop, c.maxDrop(),
            fmt("%s accuracy drop vs float %.4f (float %.4f, %s %.4f) > maxDrop %.4f", model, drop, floatAccuracy,
                model, f.accuracy(), c.maxDrop())));
      }
      if (c.minAgreement() != null && f.agreementWithFloat() < c.minAgreement()) {
        failures.add(new Failure(model, "minAgreement", f.agreementWithFloat(), c.minAgreement(),
            fmt("%s top-1 agreement with float %.4f < minAgreement %.4f", model, f.agreementWithFloat(),
                c.minAgreement())));
      }
    }
    return failures;
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
