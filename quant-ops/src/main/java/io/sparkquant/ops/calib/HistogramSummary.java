package io.sparkquant.ops.calib;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a calibration table keeps of a histogram: its layout and the counts merged into at most
 * {@link #COARSE_BINS} equal groups of fine bins (enough for a chart in a report, small enough for a table).
 */
public record HistogramSummary(BinLayout layout, List<Long> coarseCounts) {

  public static final int COARSE_BINS = 64;

  public HistogramSummary {
    coarseCounts = Collections.unmodifiableList(new ArrayList<>(coarseCounts));
  }

  public static HistogramSummary of(HistogramStats histogram) {
    BinLayout layout = histogram.layout();
    int fine = layout.binCount();
    int groups = Math.min(COARSE_BINS, fine);
    List<Long> coarse = new ArrayList<>(groups);
    for (int g = 0; g < groups; g++) {
      // Group g holds fine bins [g * fine / groups, (g + 1) * fine / groups).
      long sum = 0;
      for (int k = (int) ((long) g * fine / groups); k < (int) ((long) (g + 1) * fine / groups); k++) {
        sum += histogram.binCount(k);
      }
      coarse.add(sum);
    }
    return new HistogramSummary(layout, coarse);
  }

  /** The edge below coarse group {@code g}, for {@code 0 <= g <= coarseCounts().size()}. */
  public double coarseEdge(int g) {
    return layout.edge((int) ((long) g * layout.binCount() / coarseCounts.size()));
  }
}
