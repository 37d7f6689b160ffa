// Charts drawn by the server as inline SVG: no script draws them (the pages' Content-Security-
// Policy allows none inline), they scale with the page, and each is an image with a title and a
// description for screen readers; the page puts the same figures in a table next to it.
#pragma once

#include <string>
#include <vector>

namespace procedo::web {

struct ChartSeries {
  std::string name;            // the legend's
  std::string color;           // a fill with 3:1 contrast against white (WCAG 1.4.11)
  std::vector<double> values;  // one per label
};

struct BarChart {
  std::string id;           // unique on the page: the title's and description's ids derive from it
  std::string title;        // what the chart shows
  std::string description;  // where the figures are in words (e.g. "the table below")
  std::vector<std::string> labels;  // the groups along the horizontal axis
  std::vector<ChartSeries> series;  // bars side by side in each group
  std::string unit;                 // after each value ("%", "")
  double max = 0;                   // the top of the scale; 0: the largest value
};

// The SVG element, every text in it escaped.
std::string RenderBarChart(const BarChart& chart);

// Text as it may stand in the content or an attribute of the SVG and HTML drawn on the server
// (the charts, the notice's QR code): & < > " ' escaped.
std::string EscapeMarkup(const std::string& s);

}  // namespace procedo::web
