package io.sparkquant.ops.calib;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Shared JSON helpers for the calibration formats: versioned headers and exact float round trips. */
final class StatsJson {

  // BigDecimal nodes keep the decimal text as written, so floats parse back without double rounding.
  static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private StatsJson() {}

  /** A message for one line: control characters become spaces, and at most 1,000 characters are kept. */
  static String oneLine(String message) {
    if (message == null) {
      return null;
    }
    StringBuilder sb = new StringBuilder(Math.min(message.length(), 1_003));
    for (int i = 0; i < message.length() && sb.length() < 1_000; i++) {
      char c = message.charAt(i);
      sb.append(c < 32 || c == 127 ? ' ' : c);
    }
    return sb.length() < message.length() ? sb + "..." : sb.toString();
  }

  static ObjectNode header(String format, int version) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("format", format);
    node.put("formatVersion", version);
    return node;
  }

  static void checkHeader(JsonNode node, String format, int version) {
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("expected a JSON object of format '" + format + "', got " + node);
    }
    String actualFormat = node.path("format").asText(null);
    if (!format.equals(actualFormat)) {
      throw new IllegalArgumentException("expected JSON format '" + format + "', got '" + actualFormat + "'");
    }
    JsonNode v = node.get("formatVersion");
    if (v == null || !v.canConvertToInt() || v.asInt() != version) {
      throw new IllegalArgumentException("unsupported " + format + " formatVersion " + v
          + "; this build reads version " + version);
    }
  }

  /**
   * Writes a float so that it reads back bit for bit: finite values as JSON numbers (Float.toString is the
   * shortest exact representation), non-finite ones as the strings "Infinity", "-Infinity", "NaN".
   */
  static void putFloat(ObjectNode node, String field, float value) {
    if (Float.isFinite(value)) {
      node.put(field, value);
    } else {
      node.put(field, Float.toString(value));
    }
  }

  static float requireFloat(JsonNode node, String field) {
    JsonNode v = require(node, field);
    if (v.isTextual()) {
      String t = v.asText();
      if (t.equals("Infinity") || t.equals("-Infinity") || t.equals("NaN")) {
        return Float.parseFloat(t);
      }
      throw new IllegalArgumentException("field '" + field + "' must be a number or Infinity/-Infinity/NaN, got '"
          + t + "'");
    }
    if (!v.isNumber()) {
      throw new IllegalArgumentException("field '" + field + "' must be a number, got " + v);
    }
    // Parse the decimal text as float directly: going through double first can double-round.
    return Float.parseFloat(v.isBigDecimal() ? v.decimalValue().toString() : v.asText());
  }

  static double requireDouble(JsonNode node, String field) {
    JsonNode v = require(node, field);
    if (!v.isNumber()) {
      throw new IllegalArgumentException("field '" + field + "' must be a number, got " + v);
    }
    return Double.parseDouble(v.isBigDecimal() ? v.decimalValue().toString() : v.asText());
  }

  static long requireLong(JsonNode node, String field) {
    JsonNode v = require(node, field);
    if (!v.canConvertToLong() || !v.isIntegralNumber()) {
      throw new IllegalArgumentException("field '" + field + "' must be an integer, got " + v);
    }
    return v.asLong();
  }

  static int requireInt(JsonNode node, String field) {
    JsonNode v = require(node, field);
    if (!v.canConvertToInt() || !v.isIntegralNumber()) {
      throw new IllegalArgumentException("field '" + field + "' must be a 32-bit integer, got " + v);
    }
    return v.asInt();
  }

  static String requireText(JsonNode node, String field) {
    JsonNode v = require(node, field);
    if (!v.isTextual()) {
      throw new IllegalArgumentException("field '" + field + "' must be a string, got " + v);
    }
    return v.asText();
  }

  static JsonNode require(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("missing field '" + field + "' in " + abbreviate(node));
    }
    return v;
  }

  private static String abbreviate(JsonNode node) {
    String s = node.toString();
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }
}
