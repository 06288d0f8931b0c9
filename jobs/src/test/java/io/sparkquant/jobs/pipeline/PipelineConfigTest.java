package io.sparkquant.jobs.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The config's defaults, and every kind of invalid value named with its key, value and what is valid. */
class PipelineConfigTest {

  private static final String DATA = "\"data\": {\"train\": \"t\", \"test\": \"e\"}";

  @Test
  void minimalConfigTakesTheDocumentedDefaults() {
    PipelineConfig c = PipelineConfig.parse("{\"root\": \"r\", " + DATA + ", \"model\": \"m.zip\"}");
    assertEquals("mse", c.calibrate().method());
    assertEquals(1000, c.calibrate().rows());
    assertEquals(List.of("dynamic", "int8"), c.quantize().modes());
    assertEquals("java", c.evaluate().runtime());
    assertNull(c.train());
    assertNull(c.qat());
    assertNull(c.gate());
  }

  @Test
  void gateDefaultsToEveryQuantizedModel() {
    PipelineConfig c = PipelineConfig.parse("{\"root\": \"r\", " + DATA + ", \"model\": \"m.zip\", \"qat\": {},"
        + " \"quantize\": {\"modes\": [\"int8\"]}, \"gate\": {\"maxDrop\": 0.01}}");
    assertEquals(List.of("int8", PipelineJob.QAT_LABEL), c.gate().models());
    assertEquals(0.01, c.gate().maxDrop());
  }

  @Test
  void invalidValuesNameKeyValueAndWhatIsValid() {
    Map<String, List<String>> cases = Map.of(
        "{\"root\": \"r\", " + DATA + ", \"model\": \"m\", \"quantize\": {\"modes\": [\"int8\", \"int4\"]}}",
        List.of("'quantize.modes[1]'", "\"int4\"", "\"float16\"", "\"int16x8\""),
        "{\"root\": \"r\", " + DATA + ", \"model\": \"m\", \"calibrate\": {\"rows\": 0}}",
        List.of("'calibrate.rows'", "value 0", ">= 1"),
        "{\"root\": \"r\", " + DATA + ", \"model\": \"m\", \"calibrate\": {\"method\": \"kl\"}}",
        List.of("'calibrate.method'", "\"kl\"", "\"entropy\""),
        "{\"root\": \"r\", " + DATA + ", \"model\": \"m\", \"evaluate\": {\"runtme\": \"java\"}}",
        List.of("'evaluate.runtme'", "unknown key", "runtime"),
        "{\"root\": \"r\", " + DATA + ", \"model\": \"m\", \"gate\": {\"minAccuracy\": 85}}",
        List.of("'gate.minAccuracy'", "85", "[0, 1]"),
        "{\"root\": \"r\", " + DATA + ", \"model\": \"m\", \"gate\": {\"models\": [\"qat-int8\"], \"maxDrop\": 0}}",
        List.of("'gate.models[0]'", "\"qat-int8\"", "\"dynamic\""),
        "{\"root\": \"r\", " + DATA + ", \"model\": \"m\", \"train\": {}}",
        List.of("'model' and 'train'", "both"),
        "{\"root\": \"r\", \"data\": {\"train\": \"t\"}, \"model\": \"m\"}",
        List.of("'data'", "'test'"),
        "{" + DATA + ", \"model\": \"m\"}",
        List.of("'root'", "missing"),
        "{\"root\": \"r\", " + DATA + ", \"model\": \"m\", \"train\": 3}",
        List.of("'train'", "value 3"));
    cases.forEach((json, expected) -> {
      PipelineConfig.InvalidConfigException e =
          assertThrows(PipelineConfig.InvalidConfigException.class, () -> PipelineConfig.parse(json), json);
      for (String part : expected) {
        assertTrue(e.getMessage().contains(part), "'" + part + "' not in: " + e.getMessage());
      }
    });
  }

  @Test
  void notJsonSaysWhere() {
    PipelineConfig.InvalidConfigException e = assertThrows(PipelineConfig.InvalidConfigException.class,
        () -> PipelineConfig.parse("{\"root\": \"r\",\n \"data\": }"));
    assertTrue(e.getMessage().contains("line 2"), e.getMessage());
  }

  @Test
  void gateNamesTheFailedConditionAndTheFigures() {
    Gate.Conditions c = new Gate.Conditions(List.of("int8"), 0.8, 0.01, 0.98);
    List<Gate.Failure> failures = Gate.check(c, 0.85, Map.of("int8", new Gate.Figures(0.83, 0.99)));
    assertEquals(1, failures.size(), failures.toString());
    assertEquals("int8 accuracy drop vs float 0.0200 (float 0.8500, int8 0.8300) > maxDrop 0.0100",
        failures.get(0).line());
    assertTrue(Gate.check(c, 0.85, Map.of("int8", new Gate.Figures(0.845, 0.98))).isEmpty());
    List<Gate.Failure> all = Gate.check(c, 0.85, Map.of("int8", new Gate.Figures(0.5, 0.6)));
    assertEquals(List.of("minAccuracy", "maxDrop", "minAgreement"),
        all.stream().map(Gate.Failure::condition).toList());
  }
}
