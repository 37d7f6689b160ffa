#include "adapters/web/charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace procedo::web {
namespace {

// Italian: a decimal comma, no decimals on whole numbers.
std::string Number(double v) {
  std::string s =
      std::fabs(v - std::round(v)) < 0.05 ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v);
  for (char& c : s) c = c == '.' ? ',' : c;
  return s;
}

}  // namespace

std::string EscapeMarkup(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderBarChart(const BarChart& c) {
  constexpr double kWidth = 640, kHeight = 260, kLeft = 44, kRight = 8, kTop = 36, kBottom = 40;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  double max = c.max;
  for (const auto& s : c.series) {
    for (double v : s.values) max = std::max(max, v);
  }
  // A scale of four equal steps in whole numbers, for counts.
  max = max <= 0 ? 4 : std::ceil(max / 4) * 4;
  const std::string id = EscapeMarkup(c.id);
  std::string out = fmt::format(
      "<svg class=\"chart\" id=\"{0}\" role=\"img\" aria-labelledby=\"{0}-titolo {0}-desc\" "
      "viewBox=\"0 0 {1} {2}\" width=\"100%\" preserveAspectRatio=\"xMidYMid meet\" "
      "xmlns=\"http://www.w3.org/2000/svg\">"
      "<title id=\"{0}-titolo\">{3}</title><desc id=\"{0}-desc\">{4}</desc>",
      id, kWidth, kHeight, EscapeMarkup(c.title), EscapeMarkup(c.description));
  // The scale: four lines with their values.
  for (int i = 0; i <= 4; ++i) {
    const double y = kTop + plot_h - plot_h * i / 4;
    out += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#c5c7c9\" "
        "stroke-width=\"1\"/><text x=\"{3}\" y=\"{4:.1f}\" font-size=\"11\" text-anchor=\"end\" "
        "fill=\"#1a1a1a\">{5}</text>",
        kLeft, kWidth - kRight, y, kLeft - 4, y + 4, EscapeMarkup(Number(max * i / 4) + c.unit));
  }
  // The legend, along the top.
  double lx = kLeft;
  for (const auto& s : c.series) {
    out += fmt::format(
        "<rect x=\"{0:.1f}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{1}\"/><text "
        "x=\"{2:.1f}\" y=\"18\" font-size=\"12\" fill=\"#1a1a1a\">{3}</text>",
        lx, EscapeMarkup(s.color), lx + 16, EscapeMarkup(s.name));
    lx += 24 + 7.0 * static_cast<double>(s.name.size());
  }
  const size_t groups = std::max<size_t>(c.labels.size(), 1);
  const double group_w = plot_w / static_cast<double>(groups);
  const size_t n = std::max<size_t>(c.series.size(), 1);
  const double bar_w = std::min(40.0, group_w * 0.8 / static_cast<double>(n));
  for (size_t g = 0; g < c.labels.size(); ++g) {
    const double gx = kLeft + group_w * static_cast<double>(g);
    const double first = gx + (group_w - bar_w * static_cast<double>(n)) / 2;
    for (size_t k = 0; k < c.series.size(); ++k) {
      const double v = g < c.series[k].values.size() ? c.series[k].values[g] : 0;
      const double h = plot_h * std::clamp(v / max, 0.0, 1.0);
      const double x = first + bar_w * static_cast<double>(k);
      out += fmt::format(
          "<rect x=\"{0:.1f}\" y=\"{1:.1f}\" width=\"{2:.1f}\" height=\"{3:.1f}\" "
          "fill=\"{4}\"/>",
          x, kTop + plot_h - h, bar_w - 2, h, EscapeMarkup(c.series[k].color));
      if (bar_w >= 14) {
        out += fmt::format(
            "<text x=\"{0:.1f}\" y=\"{1:.1f}\" font-size=\"10\" text-anchor=\"middle\" "
            "fill=\"#1a1a1a\">{2}</text>",
            x + (bar_w - 2) / 2, kTop + plot_h - h - 3, EscapeMarkup(Number(v)));
      }
    }
    out += fmt::format(
        "<text x=\"{0:.1f}\" y=\"{1:.1f}\" font-size=\"11\" text-anchor=\"middle\" "
        "fill=\"#1a1a1a\">{2}</text>",
        gx + group_w / 2, kHeight - kBottom + 16, EscapeMarkup(c.labels[g]));
  }
  out += "</svg>";
  return out;
}

}  // namespace procedo::web
