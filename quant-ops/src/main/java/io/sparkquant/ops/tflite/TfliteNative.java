package io.sparkquant.ops.tflite;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads TFLite's JNI library (libtensorflowlite_jni.so from ai.djl.tflite:tflite-native-cpu) once per JVM.
 *
 * <p>DJL's org.tensorflow.lite classes call native methods but never load the library themselves when used
 * directly. JNI binds a library to the class loader of the class that calls {@link System#load}, so this
 * class must be loaded by the same loader as org.tensorflow.lite.* (checked below). The .so is extracted
 * to {@code <cache>/tflite-native/<sha256 prefix>/} (cache = system property {@code sparkquant.cache.dir},
 * else {@code ~/.cache/sparkquant}, else {@code java.io.tmpdir/sparkquant-<user>}), via a temporary file and
 * an atomic rename, so concurrent JVMs (Spark executors on one node) never load a half-written file.
 */
final class TfliteNative {

  private static final Logger LOG = LoggerFactory.getLogger(TfliteNative.class);
  static final String RESOURCE = "native/lib/libtensorflowlite_jni.so";
  private static final String LIBRARY_FILE = "libtensorflowlite_jni.so";

  private static volatile boolean loaded;

  private TfliteNative() {}

  static synchronized void load() {
    if (loaded) {
      return;
    }
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")
        || !System.getProperty("os.arch", "").matches("amd64|x86_64")) {
      throw new TfliteRuntimeException("The bundled TFLite 2.6.2 runtime is linux-x86_64 only; this JVM runs on "
          + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));
    }
    ClassLoader loader = TfliteNative.class.getClassLoader();
    if (loader != org.tensorflow.lite.Interpreter.class.getClassLoader()) {
      throw new TfliteRuntimeException("TfliteNative and org.tensorflow.lite.Interpreter were loaded by different "
          + "class loaders (" + loader + " vs " + org.tensorflow.lite.Interpreter.class.getClassLoader()
          + "); JNI would bind the library to the wrong one. Put quant-ops and tflite-engine in the same jar/loader.");
    }
    byte[] library;
    try (InputStream in = loader.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new TfliteRuntimeException("Resource " + RESOURCE + " not found on the class path: add "
            + "ai.djl.tflite:tflite-native-cpu:2.6.2:linux-x86_64");
      }
      library = in.readAllBytes();
    } catch (IOException e) {
      throw new TfliteRuntimeException("Cannot read " + RESOURCE + " from the class path", e);
    }
    Path file = extract(library);
    try {
      System.load(file.toString());
    } catch (UnsatisfiedLinkError e) {
      // E.g. "already loaded in another classloader" when a notebook reloads the jar in a new loader.
      throw new TfliteRuntimeException("Cannot load the TFLite native library " + file + ": " + e.getMessage(), e);
    }
    loaded = true;
    LOG.debug("Loaded TFLite native library {} (runtime {})", file, org.tensorflow.lite.TensorFlowLite.runtimeVersion());
  }

  private static Path extract(byte[] library) {
    String hash = sha256(library).substring(0, 16);
    IOException last = null;
    for (Path cache : cacheDirectories()) {
      Path dir = cache.resolve("tflite-native").resolve(hash);
      Path target = dir.resolve(LIBRARY_FILE);
      try {
        if (Files.isRegularFile(target) && Files.size(target) == library.length) {
          return target;
        }
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, LIBRARY_FILE, ".tmp");
        try {
          Files.write(tmp, library);
          try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
          } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
          }
        } finally {
          Files.deleteIfExists(tmp);
        }
        return target;
      } catch (IOException e) {
        LOG.debug("Cannot extract the TFLite native library to {}: {}", dir, e.toString());
        last = e;
      }
    }
    throw new TfliteRuntimeException("Cannot extract " + RESOURCE + " to any of " + cacheDirectories()
        + " (set -Dsparkquant.cache.dir to a writable directory)", last);
  }

  private static java.util.List<Path> cacheDirectories() {
    java.util.List<Path> dirs = new java.util.ArrayList<>();
    String configured = System.getProperty("sparkquant.cache.dir");
    if (configured != null && !configured.isBlank()) {
      dirs.add(Paths.get(configured));
    }
    String home = System.getProperty("user.home");
    if (home != null && !home.isBlank() && !"?".equals(home)) {
      dirs.add(Paths.get(home, ".cache", "sparkquant"));
    }
    dirs.add(Paths.get(System.getProperty("java.io.tmpdir"), "sparkquant-" + System.getProperty("user.name", "user")));
    return dirs;
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }
}
