package io.sparkquant.ops.graph;

import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable, topologically ordered float graph in NHWC with one input and one output. Built by
 * {@link Dl4jImporter}; consumed by the TFLite exporter, calibration and QAT. Batch is 1 in every shape.
 * Serializable, weights included, so that a graph can travel to Spark executors in a broadcast.
 */
public final class Graph implements java.io.Serializable {

  private static final long serialVersionUID = 1L;

  private final String name;
  private final String input;
  private final String output;
  private final Map<String, GraphTensor> tensors;
  private final List<Node> nodes;
  private final Dl4jInputLayout dl4jInputLayout;

  private Graph(String name, String input, String output, Map<String, GraphTensor> tensors, List<Node> nodes,
      Dl4jInputLayout dl4jInputLayout) {
    this.name = name;
    this.input = input;
    this.output = output;
    this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    this.nodes = List.copyOf(nodes);
    this.dl4jInputLayout = dl4jInputLayout;
  }

  /**
   * Checks the structure: unique names, every node input defined before use, producers consistent, the output
   * produced. Throws naming the offending node.
   */
  public static Graph of(String name, GraphTensor input, List<GraphTensor> tensors, List<Node> nodes, String output,
      Dl4jInputLayout dl4jInputLayout) {
    Map<String, GraphTensor> byName = new LinkedHashMap<>();
    byName.put(input.name(), input);
    for (GraphTensor t : tensors) {
      if (byName.put(t.name(), t) != null) {
        throw new IllegalArgumentException("duplicate tensor name '" + t.name() + "'");
      }
    }
    Set<String> defined = new HashSet<>();
    defined.add(input.name());
    Set<String> nodeNames = new HashSet<>();
    for (Node n : nodes) {
      if (!nodeNames.add(n.name())) {
        throw new IllegalArgumentException("duplicate node name '" + n.name() + "'");
      }
      for (String in : n.inputs()) {
        if (!defined.contains(in)) {
          throw new IllegalArgumentException("node '" + n.name() + "' (" + n.origin() + ") reads tensor '" + in
              + "' before it is produced");
        }
      }
      GraphTensor out = byName.get(n.output());
      if (out == null || !n.name().equals(out.producer())) {
        throw new IllegalArgumentException("node '" + n.name() + "' output '" + n.output()
            + "' is not a tensor produced by it");
      }
      if (!defined.add(n.output())) {
        throw new IllegalArgumentException("tensor '" + n.output() + "' is produced twice");
      }
    }
    if (!defined.contains(output)) {
      throw new IllegalArgumentException("graph output '" + output + "' is not produced by any node");
    }
    // Keep tensors in production order.
    Map<String, GraphTensor> ordered = new LinkedHashMap<>();
    ordered.put(input.name(), input);
    for (Node n : nodes) {
      ordered.put(n.output(), byName.get(n.output()));
    }
    return new Graph(name, input.name(), output, ordered, nodes, dl4jInputLayout);
  }

  public String name() {
    return name;
  }

  public GraphTensor input() {
    return tensors.get(input);
  }

  public GraphTensor output() {
    return tensors.get(output);
  }

  /** Tensors in topological order, the input first. */
  public List<GraphTensor> tensors() {
    return new ArrayList<>(tensors.values());
  }

  public List<Node> nodes() {
    return nodes;
  }

  public Dl4jInputLayout dl4jInputLayout() {
    return dl4jInputLayout;
  }

  public GraphTensor tensor(String tensorName) {
    GraphTensor t = tensors.get(tensorName);
    if (t == null) {
      throw new IllegalArgumentException("no tensor '" + tensorName + "' in graph '" + name + "'; tensors: "
          + tensors.keySet());
    }
    return t;
  }

  public Optional<Node> producer(String tensorName) {
    String p = tensor(tensorName).producer();
    return p == null ? Optional.empty() : nodes.stream().filter(n -> n.name().equals(p)).findFirst();
  }

  public List<Node> consumers(String tensorName) {
    return nodes.stream().filter(n -> n.inputs().contains(tensorName)).toList();
  }

  /**
   * The identity of the model this graph computes: SHA-256 (hex) over the input shape, the DL4J input layout, every
   * node's kind, tensor names, parameters and weights (float bits) in order, and the output name. The graph's name
   * and the nodes' {@code origin} texts are left out, so a renamed copy of a model has the same fingerprint; a
   * model of the same architecture with other weights has another. A calibration table records it.
   */
  public String fingerprint() {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
    ByteBuffer buf = ByteBuffer.allocate(8192);
    Fingerprint f = new Fingerprint(sha, buf);
    f.text("input").ints(input().shape()).text(String.valueOf(dl4jInputLayout));
    for (Node n : nodes) {
      f.text(n.getClass().getSimpleName());
      for (RecordComponent c : n.getClass().getRecordComponents()) {
        if (c.getName().equals("origin")) {
          continue;
        }
        Object v;
        try {
          v = c.getAccessor().invoke(n);
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException("cannot read " + c.getName() + " of node " + n.name(), e);
        }
        f.text(c.getName());
        if (v instanceof ConstTensor t) {
          f.ints(t.shape()).floats(t.data());
        } else if (v instanceof int[] a) {
          f.ints(a);
        } else {
          f.text(String.valueOf(v));
        }
      }
    }
    f.text("output").text(output);
    return HexFormat.of().formatHex(f.digest());
  }

  /** Feeds values to a digest with lengths, so that no two sequences of values feed the same bytes. */
  private static final class Fingerprint {
    private final MessageDigest sha;
    private final ByteBuffer buf;

    Fingerprint(MessageDigest sha, ByteBuffer buf) {
      this.sha = sha;
      this.buf = buf;
    }

    Fingerprint text(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      intValue(b.length);
      flush();
      sha.update(b);
      return this;
    }

    Fingerprint ints(int[] a) {
      intValue(a.length);
      for (int v : a) {
        intValue(v);
      }
      return this;
    }

    Fingerprint floats(float[] a) {
      intValue(a.length);
      for (float v : a) {
        intValue(Float.floatToIntBits(v));
      }
      return this;
    }

    private void intValue(int v) {
      if (buf.remaining() < Integer.BYTES) {
        flush();
      }
      buf.putInt(v);
    }

    private void flush() {
      buf.flip();
      sha.update(buf);
      buf.clear();
    }

    byte[] digest() {
      flush();
      return sha.digest();
    }
  }

  /** One line per node: "conv1: Conv2D(input[1, 28, 28, 1]) -> conv1[1, 28, 28, 8] RELU  <- layer 0 ...". */
  public String describe() {
    StringBuilder sb = new StringBuilder("graph '" + name + "' input " + input() + "\n");
    for (Node n : nodes) {
      sb.append("  ").append(n.name()).append(": ").append(n.getClass().getSimpleName()).append('(');
      sb.append(String.join(", ", n.inputs())).append(") -> ").append(tensor(n.output()));
      sb.append("  <- ").append(n.origin()).append('\n');
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return "Graph(" + name + ", " + nodes.size() + " nodes, input " + input() + ", output " + output() + ")";
  }

  static String shape(int[] s) {
    return Arrays.toString(s);
  }
}
