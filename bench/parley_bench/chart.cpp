#include "chart.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace parley::bench {
namespace {

constexpr double width = 900, panel = 170, left = 70, right = 20, top = 40, gap = 50;

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

// One panel: axes, a y scale with 4 ticks, and a polyline per series.
void panel_svg(std::ostringstream& svg, double y0, const std::string& label, double t_max,
               const std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>>& series) {
  double v_max = 1;
  for (const auto& [name, points] : series) {
    for (const auto& p : points) v_max = std::max(v_max, p.second);
  }
  v_max *= 1.1;
  double plot_w = width - left - right;
  auto x = [&](double t) { return left + plot_w * (t_max > 0 ? t / t_max : 0); };
  auto y = [&](double v) { return y0 + panel - panel * v / v_max; };
  svg << "<text x='" << left << "' y='" << y0 - 8 << "' font-size='13' font-weight='bold'>" << esc(label) << "</text>\n";
  svg << "<line x1='" << left << "' y1='" << y0 + panel << "' x2='" << width - right << "' y2='" << y0 + panel
      << "' stroke='#444'/>\n<line x1='" << left << "' y1='" << y0 << "' x2='" << left << "' y2='" << y0 + panel
      << "' stroke='#444'/>\n";
  for (int i = 0; i <= 4; ++i) {
    double v = v_max * i / 4;
    char text[32];
    std::snprintf(text, sizeof text, v >= 100 ? "%.0f" : "%.2f", v);
    svg << "<text x='" << left - 6 << "' y='" << y(v) + 4 << "' font-size='10' text-anchor='end'>" << text << "</text>\n";
    svg << "<line x1='" << left << "' y1='" << y(v) << "' x2='" << width - right << "' y2='" << y(v)
        << "' stroke='#ddd'/>\n";
  }
  for (int i = 0; i <= 10; ++i) {  // time ticks under each panel
    double t = t_max * i / 10;
    char text[32];
    std::snprintf(text, sizeof text, t_max >= 20 ? "%.0f" : "%.1f", t);
    svg << "<text x='" << x(t) << "' y='" << y0 + panel + 13 << "' font-size='10' text-anchor='middle'>" << text
        << "</text>\n";
  }
  static const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c"};
  int c = 0;
  for (const auto& [name, points] : series) {
    svg << "<polyline fill='none' stroke-width='2' stroke='" << colors[c % 3] << "' points='";
    for (const auto& p : points) svg << x(p.first) << ',' << y(p.second) << ' ';
    svg << "'/>\n<text x='" << width - right - 90 + 0 << "' y='" << y0 + 14 + 14 * c << "' font-size='11' fill='"
        << colors[c % 3] << "'>" << esc(name) << "</text>\n";
    ++c;
  }
}

}  // namespace

bool write_svg(const std::string& path, const std::string& title, const std::vector<sample>& timeline) {
  double t_max = timeline.empty() ? 1 : std::max(1.0, timeline.back().t_s);
  std::vector<std::pair<double, double>> rate, p50, p99;
  for (const auto& s : timeline) {
    rate.emplace_back(s.t_s, s.rate);
    p50.emplace_back(s.t_s, s.p50_ms);
    p99.emplace_back(s.t_s, s.p99_ms);
  }
  double height = top + 2 * panel + gap + 50;
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
      << "' font-family='sans-serif'>\n<rect width='100%' height='100%' fill='white'/>\n";
  svg << "<text x='" << left << "' y='20' font-size='15'>" << esc(title) << "</text>\n";
  panel_svg(svg, top + 10, "acknowledged per second", t_max, {{"throughput", rate}});
  panel_svg(svg, top + panel + gap, "latency (ms)", t_max, {{"p50", p50}, {"p99", p99}});
  svg << "<text x='" << width / 2 << "' y='" << height - 10 << "' font-size='11' text-anchor='middle'>seconds</text>\n";
  svg << "</svg>\n";
  std::ofstream out(path);
  out << svg.str();
  return static_cast<bool>(out);
}

}  // namespace parley::bench
