// Progress of long work (transfers of large models, local training) for the
// command-line programs. Pure: the caller decides where the text goes (an
// std::ostream, stderr in the programs) and whether it is drawn at all, and
// passes the elapsed time, so that every decision is testable.
//
// The rule of the programs (progress_mode): on a terminal one line rewritten
// in place with '\r'; into a pipe or a file nothing at all (a progress bar
// never lands in a log, a pipe or JSON output); --quiet silences it even on
// a terminal; --progress asks for it where stderr is not a terminal, as
// whole lines at milestones (no '\r').
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace fedhub::cli {

enum class ProgressMode {
  off,    // nothing is written
  live,   // one line rewritten in place ("\r"), ended by a newline when done
  lines,  // a whole line at each milestone (quarters of a transfer, tenths of training)
};

// quiet wins; then a terminal draws live; forced (--progress) draws lines
// into anything else; otherwise off.
ProgressMode progress_mode(bool quiet, bool forced, bool is_tty);

// "0:07", "12:34", "1:02:03"; "?" for a negative or non-finite time.
std::string format_duration(double seconds);

// "uploading 42% (67.1 of 160.0 MiB, 301.2 MiB/s, 0:01 left)"; rate and
// time left only when elapsed_seconds > 0 (time left until the end).
// `percent` (0-100) replaces the computed percentage: the milestone a line
// of ProgressMode::lines stands for.
std::string format_transfer(const std::string& what, uint64_t done, uint64_t total, double elapsed_seconds,
                            int percent = -1);

// "training version 3: step 120/200  loss 0.4321  2560 images/s"; the rate
// only when elapsed_seconds > 0.
std::string format_training(const std::string& what, int64_t step, int64_t steps, double loss, int64_t images,
                            double elapsed_seconds);

// One status line on a stream. live: show() replaces the shown text in place
// ('\r', padded with blanks over a longer previous text) and finish() ends
// it with a newline; lines: show() writes a whole line; off: nothing.
class ProgressLine {
 public:
  ProgressLine(std::ostream& out, ProgressMode mode) : out_(out), mode_(mode) {}
  // Ends a live line still shown (work cut short by an error): the error's
  // message then starts on a line of its own.
  ~ProgressLine() { finish(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ProgressLine(ProgressLine&& o) noexcept : out_(o.out_), mode_(o.mode_), width_(o.width_) { o.width_ = 0; }
  ProgressMode mode() const { return mode_; }
  void show(const std::string& text);
  // Ends a live line that is shown (the next show() starts a new one).
  void finish();

 private:
  std::ostream& out_;
  ProgressMode mode_;
  size_t width_ = 0;  // of the live text shown; 0 when none is
};

// A transfer's progress: redrawn when the percentage changes and at most
// every 0.1 s (live), or a line at 0, 25, 50, 75 and 100% (lines); nothing
// for transfers under min_bytes (they end before progress matters).
class TransferProgress {
 public:
  static constexpr uint64_t kMinBytes = 16u << 20;
  TransferProgress(std::ostream& out, ProgressMode mode, std::string what, uint64_t min_bytes = kMinBytes);
  void update(uint64_t done, uint64_t total, double elapsed_seconds);

 private:
  ProgressLine line_;
  std::string what_;
  uint64_t min_bytes_;
  int last_step_ = -1;
  double last_drawn_ = -1;
};

// Training's progress: live, redrawn at every call (the trainer calls every
// few steps); lines, a line at every tenth. The last step (step == steps)
// always ends with a summary line unless the mode is off and summary false.
class TrainingProgress {
 public:
  TrainingProgress(std::ostream& out, ProgressMode mode, bool summary, std::string what);
  void update(int64_t step, int64_t steps, double loss, int64_t images, double elapsed_seconds);

 private:
  std::ostream& out_;
  ProgressLine line_;
  bool summary_;
  std::string what_;
  int64_t last_tenth_ = -1;
};

}  // namespace fedhub::cli
