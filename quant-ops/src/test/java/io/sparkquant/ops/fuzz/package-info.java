/**
 * Fuzz tests (Jazzer's JUnit integration): the .tflite reader, verifier and interpreter, the calibration-table
 * reader and the .npy reader must refuse every damaged input with their documented exception and a one-line
 * message, never crash, hang or run out of memory. {@code mvn verify} replays the committed corpus under
 * {@code src/test/resources/io/sparkquant/ops/fuzz/<Class>Inputs/<method>/}; README.md ("Fuzz tests") tells how
 * to fuzz for longer.
 */
package io.sparkquant.ops.fuzz;
