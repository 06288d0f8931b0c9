package io.sparkquant.jobs.eval;

import io.sparkquant.data.Layout;
import io.sparkquant.ops.qat.FakeQuantInputPreProcessor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Scores with a float DL4J model (a ModelSerializer zip of a MultiLayerNetwork or ComputationGraph). */
public final class Dl4jPredictor implements Predictor {

  private final Model model;
  private final Layout layout;

  private Dl4jPredictor(Model model, Layout layout) {
    this.model = model;
    this.layout = layout;
  }

  /** Deserializes a ModelSerializer zip; {@code name} only appears in error messages. */
  public static Dl4jPredictor fromBytes(byte[] modelZip, String name) {
    try {
      if (isComputationGraph(modelZip, name)) {
        ComputationGraph graph = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(modelZip), false);
        if (graph.getNumInputArrays() != 1 || graph.getNumOutputArrays() != 1) {
          throw new IllegalArgumentException("Model " + name + " has " + graph.getNumInputArrays()
              + " inputs and " + graph.getNumOutputArrays() + " outputs; evaluation needs exactly one of each");
        }
        return new Dl4jPredictor(graph, layoutOf(graph.getConfiguration(), name));
      }
      MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(modelZip), false);
      return new Dl4jPredictor(net, layoutOf(net, name));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read DL4J model " + name, e);
    }
  }

  /**
   * A network whose first layer is convolutional (with no input preprocessor) takes NCHW images; one with
   * a preprocessor (e.g. built with InputType.convolutionalFlat) or a dense first layer takes flat vectors.
   */
  private static Layout layoutOf(MultiLayerNetwork net, String name) {
    MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
    return layoutOf(conf.getConf(0).getLayer(), hasPreprocessor(conf.getInputPreProcess(0)), name);
  }

  /** A QAT network's input fake-quantizer reshapes nothing: only the preprocessor it wraps, if any, tells. */
  private static boolean hasPreprocessor(InputPreProcessor p) {
    return p instanceof FakeQuantInputPreProcessor q ? q.getInner() != null : p != null;
  }

  /** As for a MultiLayerNetwork, using the first vertex that reads the network input. */
  private static Layout layoutOf(ComputationGraphConfiguration conf, String name) {
    String input = conf.getNetworkInputs().get(0);
    for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
      if (e.getValue().contains(input) && conf.getVertices().get(e.getKey()) instanceof LayerVertex v) {
        return layoutOf(v.getLayerConf().getLayer(), hasPreprocessor(v.getPreProcessor()), name);
      }
    }
    throw new IllegalArgumentException("Model " + name + ": no layer reads the network input '" + input
        + "'; cannot tell its input layout");
  }

  private static Layout layoutOf(Layer first, boolean hasPreprocessor, String name) {
    if (hasPreprocessor || first instanceof BaseOutputLayer || first instanceof DenseLayer) {
      return Layout.FLAT;
    }
    if (first instanceof ConvolutionLayer c && c.getCnn2dDataFormat() == CNN2DFormat.NCHW
        || first instanceof SubsamplingLayer s && s.getCnn2dDataFormat() == CNN2DFormat.NCHW) {
      return Layout.NCHW;
    }
    throw new IllegalArgumentException("Model " + name + ": cannot tell the input layout from its first layer "
        + first.getClass().getSimpleName() + " '" + first.getLayerName() + "'; supported: dense, or NCHW"
        + " convolution/pooling");
  }

  private static boolean isComputationGraph(byte[] modelZip, String name) throws IOException {
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(modelZip))) {
      for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
        if (e.getName().equals("configuration.json")) {
          ByteArrayOutputStream json = new ByteArrayOutputStream();
          zip.transferTo(json);
          return json.toString(StandardCharsets.UTF_8).contains("\"vertices\"");
        }
      }
    }
    throw new IllegalArgumentException("Model " + name + " is not a DL4J ModelSerializer zip"
        + " (no configuration.json entry)");
  }

  @Override
  public Dl4jPredictor copy() {
    Model copy = model instanceof ComputationGraph g ? g.clone() : ((MultiLayerNetwork) model).clone();
    return new Dl4jPredictor(copy, layout);
  }

  @Override
  public Layout layout() {
    return layout;
  }

  @Override
  public float[][] predict(float[] values, long[] shape) {
    INDArray features = Nd4j.create(values, shape, 'c');
    INDArray out = model instanceof ComputationGraph g ? g.outputSingle(false, features)
        : ((MultiLayerNetwork) model).output(features, false);
    return out.toFloatMatrix();
  }
}
