// Line charts as standalone SVG documents, for a simulation's reports
// (accuracy per round, loss per virtual second, ...). Pure: no actor system.
//
// The document needs nothing else to be shown (no external fonts, images,
// stylesheets or scripts) and is well-formed XML: a browser, an image viewer
// or an <img> in a report displays it as it is.
//
//   fedhub::sim::Chart c;
//   c.title = "Accuracy per round"; c.x_label = "round"; c.y_label = "accuracy";
//   c.y_min = 0; c.y_max = 1;
//   c.series.push_back({"federation", points});
//   c.y_marks.push_back({0.789, "paper baseline"});
//   fedhub::sim::write_svg("accuracy.svg", fedhub::sim::svg_line_chart(c));
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fedhub::sim {

// One line: its points in the order they are joined (x, y in data units).
// A point with a NaN or infinite coordinate is left out and breaks the line:
// the points before and after it are drawn as separate lines (a gap). A run
// of one point between gaps is drawn as a dot.
struct Series {
  std::string name;  // its legend entry ("NAME (no data)" when it has no finite point)
  std::vector<std::pair<double, double>> points;
  bool dashed = false;  // drawn dashed (e.g. a baseline) rather than solid
};

struct Chart {
  std::string title;    // above the plot (empty: none)
  std::string x_label;  // below the x axis (empty: none)
  std::string y_label;  // beside the y axis, rotated (empty: none)
  // Series take the colours of the Okabe-Ito palette (distinguishable with
  // every common colour-vision deficiency) in order: blue, orange, bluish
  // green, vermillion, reddish purple, sky blue, black, yellow; a ninth
  // series starts again at blue.
  std::vector<Series> series;
  // The y axis' range. Unset: the data's range (with the y marks) widened to
  // the nearest ticks. Set: exactly this bound; what lies beyond it is cut
  // off. The x axis is always the data's range widened to the nearest ticks.
  std::optional<double> y_min, y_max;
  // Horizontal reference lines (value, label), dashed grey across the plot
  // and labelled at whichever end is freer of the series' lines. A mark
  // outside a set y range, or not finite, is not drawn.
  std::vector<std::pair<double, std::string>> y_marks;
};

// The chart as an SVG document of `width` x `height` pixels: a title, axes
// with tick labels at "nice" values (1, 2 or 5 times a power of ten apart)
// and grid lines, the axis labels, the series' lines, the y marks, and a
// legend below the plot with each series' colour and dash. Text is
// XML-escaped (control characters dropped); a text too long for the picture
// is cut short with "...". A chart without any finite point is still a
// document: its title and "no data" in a frame.
//
// Throws std::invalid_argument when width < 200 or height < 150, when y_min
// or y_max is not finite, or when y_min >= y_max (both set).
std::string svg_line_chart(const Chart& chart, int width = 800, int height = 480);

// `svg` written to `path` atomically (a temporary file beside it, fsynced,
// renamed over it). Throws std::runtime_error naming the path when it
// cannot be written.
void write_svg(const std::string& path, const std::string& svg);

}  // namespace fedhub::sim
