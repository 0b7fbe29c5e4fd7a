#include "apps/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <utility>

namespace fedhub::cli {

ProgressMode progress_mode(bool quiet, bool forced, bool is_tty) {
  if (quiet) return ProgressMode::off;
  if (is_tty) return ProgressMode::live;
  return forced ? ProgressMode::lines : ProgressMode::off;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

std::string format_transfer(const std::string& what, uint64_t done, uint64_t total, double elapsed_seconds,
                            int shown_percent) {
  constexpr double kMiB = 1 << 20;
  const int percent = shown_percent >= 0 ? shown_percent : total == 0 ? 100 : static_cast<int>(done * 100 / total);
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s %d%% (%.1f of %.1f MiB", what.c_str(), percent, static_cast<double>(done) / kMiB,
                static_cast<double>(total) / kMiB);
  std::string out = buf;
  if (elapsed_seconds > 0 && done > 0) {
    const double rate = static_cast<double>(done) / elapsed_seconds;
    std::snprintf(buf, sizeof buf, ", %.1f MiB/s", rate / kMiB);
    out += buf;
    if (done < total) out += ", " + format_duration(static_cast<double>(total - done) / rate) + " left";
  }
  return out + ")";
}

std::string format_training(const std::string& what, int64_t step, int64_t steps, double loss, int64_t images,
                            double elapsed_seconds) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s: step %lld/%lld  loss %.4f", what.c_str(), static_cast<long long>(step),
                static_cast<long long>(steps), loss);
  std::string out = buf;
  if (elapsed_seconds > 0 && images > 0) {
    std::snprintf(buf, sizeof buf, "  %.0f images/s", static_cast<double>(images) / elapsed_seconds);
    out += buf;
  }
  return out;
}

void ProgressLine::show(const std::string& text) {
  switch (mode_) {
    case ProgressMode::off:
      return;
    case ProgressMode::lines:
      out_ << text << "\n" << std::flush;
      return;
    case ProgressMode::live:
      out_ << '\r' << text;
      if (text.size() < width_) out_ << std::string(width_ - text.size(), ' ');
      out_ << std::flush;
      width_ = std::max<size_t>(text.size(), 1);
      return;
  }
}

void ProgressLine::finish() {
  if (mode_ != ProgressMode::live || width_ == 0) return;
  out_ << "\n" << std::flush;
  width_ = 0;
}

TransferProgress::TransferProgress(std::ostream& out, ProgressMode mode, std::string what, uint64_t min_bytes)
    : line_(out, mode), what_(std::move(what)), min_bytes_(min_bytes) {}

void TransferProgress::update(uint64_t done, uint64_t total, double elapsed_seconds) {
  if (line_.mode() == ProgressMode::off || total < min_bytes_) return;
  const int percent = total == 0 ? 100 : static_cast<int>(done * 100 / total);
  const bool end = done >= total;
  if (line_.mode() == ProgressMode::lines) {
    const int step = percent / 25 * 25;
    if (step == last_step_) return;
    last_step_ = step;
    line_.show(format_transfer(what_, done, total, elapsed_seconds, step));
    return;
  }
  if (!end && (percent == last_step_ || elapsed_seconds - last_drawn_ < 0.1)) return;
  last_step_ = percent;
  last_drawn_ = elapsed_seconds;
  line_.show(format_transfer(what_, done, total, elapsed_seconds));
  if (end) line_.finish();
}

TrainingProgress::TrainingProgress(std::ostream& out, ProgressMode mode, bool summary, std::string what)
    : out_(out), line_(out, mode), summary_(summary), what_(std::move(what)) {}

void TrainingProgress::update(int64_t step, int64_t steps, double loss, int64_t images, double elapsed_seconds) {
  const bool end = step >= steps;
  const auto text = format_training(what_, step, steps, loss, images, elapsed_seconds);
  switch (line_.mode()) {
    case ProgressMode::live:
      line_.show(text);
      if (end) line_.finish();
      return;
    case ProgressMode::lines: {
      const int64_t tenth = step * 10 / std::max<int64_t>(1, steps);
      if (tenth == last_tenth_ && !end) return;
      last_tenth_ = tenth;
      line_.show(text);
      return;
    }
    case ProgressMode::off:
      if (end && summary_) out_ << text << "\n" << std::flush;
      return;
  }
}

}  // namespace fedhub::cli
