package io.sparkquant.ops.graph;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * What SparkQuant records about a model it trained, stored as the entry {@value #ENTRY} of the ModelSerializer
 * zip: the input shape (HWC or [F], no batch dimension) and the class names, so export and evaluation need no
 * {@code --input-shape}. DL4J ignores entries it does not know, so the zip stays a plain ModelSerializer zip.
 *
 * @param classNames class names in label order; empty if unknown
 */
public record ModelMetadata(int[] inputShape, List<String> classNames) {

  public static final String ENTRY = "sparkquant.json";
  public static final String FORMAT = "sparkquant.model-metadata";
  public static final int FORMAT_VERSION = 1;

  private static final ObjectMapper JSON = new ObjectMapper();

  public ModelMetadata {
    if (inputShape == null || inputShape.length == 0 || Arrays.stream(inputShape).anyMatch(d -> d < 1)) {
      throw new IllegalArgumentException("input shape must be HWC or [F] with positive dimensions, got "
          + Arrays.toString(inputShape));
    }
    inputShape = inputShape.clone();
    classNames = classNames == null ? List.of() : List.copyOf(classNames);
  }

  @Override
  public int[] inputShape() {
    return inputShape.clone();
  }

  /** The metadata recorded in a ModelSerializer zip, or empty if it has none (a model trained elsewhere). */
  public static Optional<ModelMetadata> read(byte[] modelZip) {
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(modelZip))) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        if (e.getName().equals(ENTRY)) {
          return Optional.of(fromJson(zip.readAllBytes()));
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the model zip", e);
    }
  }

  /** {@code modelZip} with this metadata as its {@value #ENTRY} entry (replacing one already there). */
  public byte[] addTo(byte[] modelZip) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(modelZip.length + 256);
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(modelZip));
        ZipOutputStream out = new ZipOutputStream(bytes)) {
      boolean any = false;
      for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
        any = true;
        if (!e.getName().equals(ENTRY)) {
          out.putNextEntry(new ZipEntry(e.getName()));
          in.transferTo(out);
          out.closeEntry();
        }
      }
      if (!any) {
        throw new IllegalArgumentException("not a zip file (no entries): cannot add " + ENTRY);
      }
      out.putNextEntry(new ZipEntry(ENTRY));
      out.write(toJson());
      out.closeEntry();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot rewrite the model zip", e);
    }
    return bytes.toByteArray();
  }

  public byte[] toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", FORMAT_VERSION);
    ArrayNode shape = root.putArray("inputShape");
    Arrays.stream(inputShape).forEach(shape::add);
    ArrayNode names = root.putArray("classNames");
    classNames.forEach(names::add);
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ModelMetadata fromJson(byte[] json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(ENTRY + " is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !FORMAT.equals(root.path("format").asText())
        || root.path("version").asInt() != FORMAT_VERSION) {
      throw new IllegalArgumentException(ENTRY + ": expected format " + FORMAT + " version " + FORMAT_VERSION
          + ", got " + (root == null ? "nothing" : root.path("format") + " version " + root.path("version")));
    }
    JsonNode shape = root.path("inputShape");
    if (!shape.isArray()) {
      throw new IllegalArgumentException(ENTRY + ": inputShape must be an array, got " + shape);
    }
    int[] inputShape = new int[shape.size()];
    for (int i = 0; i < inputShape.length; i++) {
      if (!shape.get(i).canConvertToInt()) {
        throw new IllegalArgumentException(ENTRY + ": inputShape must hold integers, got " + shape);
      }
      inputShape[i] = shape.get(i).asInt();
    }
    List<String> classNames = new ArrayList<>();
    root.path("classNames").forEach(n -> classNames.add(n.asText()));
    return new ModelMetadata(inputShape, classNames);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelMetadata m && Arrays.equals(inputShape, m.inputShape) && classNames.equals(m.classNames);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(inputShape) * 31 + classNames.hashCode();
  }

  @Override
  public String toString() {
    return "ModelMetadata{inputShape=" + Arrays.toString(inputShape) + ", classNames=" + classNames + "}";
  }
}
