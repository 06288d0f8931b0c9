package io.sparkquant.ops.compare;

/**
 * The error of one tensor of a quantized model against the reference model's tensor of the same name.
 *
 * @param op the operator that writes the tensor in the quantized model ("input" for the model input)
 * @param type the quantized model's tensor type (FLOAT32, INT8, INT16); integer tensors are dequantized
 * @param sqnrDb {@code 10 log10(Σ ref² / Σ err²)}; null when the error is exactly zero (infinite SQNR)
 * @param rmsError {@code sqrt(Σ err² / elements)}
 * @param referenceRms {@code sqrt(Σ ref² / elements)}
 */
public record LayerError(String tensor, String op, String type, long elements, Double sqnrDb, double maxAbsError,
    double rmsError, double referenceRms, double sumReferenceSquared, double sumErrorSquared) {}
