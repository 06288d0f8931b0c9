package io.sparkquant.jobs.qat;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkquant.data.DatasetInfo;
import io.sparkquant.data.FashionMnist;
import io.sparkquant.data.TensorDatasets;
import io.sparkquant.data.testing.SharedSpark;
import io.sparkquant.jobs.Main;
import io.sparkquant.jobs.TestDatasets;
import io.sparkquant.ops.qat.QatNetwork;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import picocli.CommandLine;

/**
 * Bad input stops {@code qat} in the command's validation, before Spark starts, with a usage error (exit code 2) that
 * names what is wrong: a layer the QAT network cannot express (name, index, the supported set), a dataset whose rows
 * do not have the model's input shape (expected and actual).
 */
class QatBadInputTest {

  private static final int USAGE_ERROR = 2;

  @TempDir Path tmp;

  @Test
  void unsupportedLayerIsNamedBeforeSparkStarts() throws IOException {
    // A sigmoid output: the graph ends in LOGISTIC, which QAT cannot train with a loss (it needs a dense output).
    Path model = save(net(Activation.SIGMOID, LossFunctions.LossFunction.XENT), "sigmoid.zip");
    StringWriter err = new StringWriter();
    int code = execute(err, "qat", "--model", model.toString(), "--data", TestDatasets.train(),
        "--out", tmp.resolve("out").toString());
    assertEquals(USAGE_ERROR, code, err.toString());
    String message = err.toString();
    assertTrue(java.util.regex.Pattern.compile("node \\d+ '[^']+' \\(").matcher(message).find(), message);
    assertTrue(message.contains("supported: " + QatNetwork.SUPPORTED), message);
    assertFalse(Files.exists(tmp.resolve("out")));
  }

  @Test
  void datasetOfAnotherShapeFailsBeforeTraining() throws IOException {
    Path model = save(net(Activation.SOFTMAX, LossFunctions.LossFunction.MCXENT), "mlp.zip");
    // The first 14 x 14 values of each training image: a dataset the 784-input model cannot read.
    Path small = tmp.resolve("small");
    TensorDatasets.write(TensorDatasets.load(SharedSpark.get(), TestDatasets.train()).rows().limit(64)
            .withColumn("features", expr("slice(features, 1, 196)")).select(col("features"), col("label"), col("id")),
        new DatasetInfo(new int[] {14, 14, 1}, FashionMnist.CLASS_NAMES), small.toString(), null);
    StringWriter err = new StringWriter();
    int code = execute(err, "qat", "--model", model.toString(), "--data", small.toString(),
        "--out", tmp.resolve("out").toString());
    assertEquals(USAGE_ERROR, code, err.toString());
    assertTrue(err.toString().contains("has rows of shape [14, 14, 1] (196 values); the model"), err.toString());
    assertTrue(err.toString().contains("expects [784] (784 values)"), err.toString());
  }

  private static int execute(StringWriter err, String... args) {
    CommandLine cl = Main.commandLine();
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  /** 784 -> 16 (relu) -> 10 with the given output activation and loss; untrained (the checks do not train). */
  private static MultiLayerNetwork net(Activation output, LossFunctions.LossFunction loss) {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).list()
        .layer(new DenseLayer.Builder().nOut(16).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(loss).nOut(10).activation(output).build())
        .setInputType(InputType.feedForward(784))
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    return net;
  }

  private Path save(MultiLayerNetwork net, String name) throws IOException {
    Path p = tmp.resolve(name);
    ModelSerializer.writeModel(net, p.toFile(), false);
    return p;
  }
}
