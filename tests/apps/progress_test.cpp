// Progress lines: drawn only where asked, with '\r' only when live (a
// terminal), never into pipes; bytes, rate and time left; training's steps,
// loss and images per second.
#include "apps/progress.hpp"

#include <boost/test/unit_test.hpp>
#include <sstream>

using namespace fedhub::cli;

namespace {
constexpr uint64_t kMiB = 1u << 20;
}

BOOST_AUTO_TEST_SUITE(progress)

BOOST_AUTO_TEST_CASE(the_mode_follows_quiet_the_terminal_and_progress) {
  BOOST_TEST((progress_mode(false, false, true) == ProgressMode::live));
  BOOST_TEST((progress_mode(false, false, false) == ProgressMode::off));  // a pipe: nothing
  BOOST_TEST((progress_mode(false, true, false) == ProgressMode::lines));
  BOOST_TEST((progress_mode(false, true, true) == ProgressMode::live));
  BOOST_TEST((progress_mode(true, false, true) == ProgressMode::off));  // --quiet wins
  BOOST_TEST((progress_mode(true, true, false) == ProgressMode::off));
}

BOOST_AUTO_TEST_CASE(durations_read_as_clock_times) {
  BOOST_TEST(format_duration(7) == "0:07");
  BOOST_TEST(format_duration(754) == "12:34");
  BOOST_TEST(format_duration(3723) == "1:02:03");
  BOOST_TEST(format_duration(-1) == "?");
}

BOOST_AUTO_TEST_CASE(a_transfer_line_has_bytes_rate_and_time_left) {
  BOOST_TEST(format_transfer("downloading", 40 * kMiB, 160 * kMiB, 2.0) ==
             "downloading 25% (40.0 of 160.0 MiB, 20.0 MiB/s, 0:06 left)");
  BOOST_TEST(format_transfer("uploading", 160 * kMiB, 160 * kMiB, 4.0) ==
             "uploading 100% (160.0 of 160.0 MiB, 40.0 MiB/s)");
  BOOST_TEST(format_transfer("uploading", 0, 160 * kMiB, 0) == "uploading 0% (0.0 of 160.0 MiB)");
}

BOOST_AUTO_TEST_CASE(off_writes_nothing) {
  std::ostringstream out;
  TransferProgress t(out, ProgressMode::off, "uploading");
  for (uint64_t d = 0; d <= 100; ++d) t.update(d * kMiB, 100 * kMiB, static_cast<double>(d));
  TrainingProgress p(out, ProgressMode::off, false, "training");
  for (int64_t s = 10; s <= 100; s += 10) p.update(s, 100, 0.5, s * 32, 1.0);
  BOOST_TEST(out.str().empty());
}

BOOST_AUTO_TEST_CASE(live_rewrites_one_line_and_ends_it) {
  std::ostringstream out;
  TransferProgress t(out, ProgressMode::live, "downloading");
  for (uint64_t d = 0; d <= 100; ++d) t.update(d * kMiB, 100 * kMiB, static_cast<double>(d));
  const auto s = out.str();
  BOOST_TEST(s.front() == '\r');
  BOOST_TEST(s.find('\n') == s.size() - 1);  // one line, ended once
  BOOST_TEST(s.find("downloading 100% (100.0 of 100.0 MiB") != std::string::npos);
  BOOST_TEST(s.find("left") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(live_redraws_at_most_ten_times_a_second) {
  std::ostringstream out;
  TransferProgress t(out, ProgressMode::live, "downloading");
  for (uint64_t d = 0; d < 100; ++d) t.update(d * kMiB, 100 * kMiB, static_cast<double>(d) * 0.001);
  const auto s = out.str();
  BOOST_TEST(std::count(s.begin(), s.end(), '\r') == 1);
}

BOOST_AUTO_TEST_CASE(live_blanks_out_a_longer_previous_text) {
  std::ostringstream out;
  ProgressLine line(out, ProgressMode::live);
  line.show("abcdef");
  line.show("xy");
  line.finish();
  BOOST_TEST(out.str() == "\rabcdef\rxy    \n");
  line.finish();  // nothing shown: nothing to end
  BOOST_TEST(out.str() == "\rabcdef\rxy    \n");
}

BOOST_AUTO_TEST_CASE(a_live_line_cut_short_is_ended) {
  std::ostringstream out;
  {
    TransferProgress t(out, ProgressMode::live, "uploading");
    t.update(50 * kMiB, 100 * kMiB, 1);  // then the upload fails
  }
  BOOST_TEST(out.str() == "\ruploading 50% (50.0 of 100.0 MiB, 50.0 MiB/s, 0:01 left)\n");
}

BOOST_AUTO_TEST_CASE(lines_write_quarters_without_carriage_returns) {
  std::ostringstream out;
  TransferProgress t(out, ProgressMode::lines, "uploading");
  for (uint64_t d = 0; d <= 100; ++d) t.update(d * kMiB, 100 * kMiB, static_cast<double>(d));
  const auto s = out.str();
  BOOST_TEST(s.find('\r') == std::string::npos);
  BOOST_TEST(std::count(s.begin(), s.end(), '\n') == 5);
  for (const char* q : {"uploading 0%", "uploading 25%", "uploading 50%", "uploading 75%", "uploading 100%"})
    BOOST_TEST(s.find(q) != std::string::npos, q);
  // A milestone line names the quarter it passed, with the bytes done.
  std::ostringstream coarse;
  TransferProgress c(coarse, ProgressMode::lines, "uploading");
  c.update(0, 100 * kMiB, 0);
  c.update(26 * kMiB, 100 * kMiB, 1);
  BOOST_TEST(coarse.str() ==
             "uploading 0% (0.0 of 100.0 MiB)\nuploading 25% (26.0 of 100.0 MiB, 26.0 MiB/s, 0:03 left)\n");
}

BOOST_AUTO_TEST_CASE(small_transfers_show_nothing) {
  std::ostringstream out;
  TransferProgress t(out, ProgressMode::live, "downloading");
  t.update(kMiB, 2 * kMiB, 1);
  t.update(2 * kMiB, 2 * kMiB, 2);
  BOOST_TEST(out.str().empty());
}

BOOST_AUTO_TEST_CASE(training_shows_steps_loss_and_images_per_second) {
  BOOST_TEST(format_training("training version 3", 120, 200, 0.43214, 3840, 1.5) ==
             "training version 3: step 120/200  loss 0.4321  2560 images/s");
  std::ostringstream live;
  TrainingProgress p(live, ProgressMode::live, true, "training version 0");
  for (int64_t s = 10; s <= 100; s += 10) p.update(s, 100, 0.5, s * 32, static_cast<double>(s) / 100);
  const auto text = live.str();
  BOOST_TEST(std::count(text.begin(), text.end(), '\r') == 10);
  BOOST_TEST(text.find('\n') == text.size() - 1);
  BOOST_TEST(text.find("step 100/100  loss 0.5000  3200 images/s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(training_into_a_pipe_prints_only_the_summary) {
  std::ostringstream out;
  TrainingProgress p(out, ProgressMode::off, true, "training version 0");
  for (int64_t s = 10; s <= 100; s += 10) p.update(s, 100, 0.25, s * 32, 1.0);
  BOOST_TEST(out.str() == "training version 0: step 100/100  loss 0.2500  3200 images/s\n");
}

BOOST_AUTO_TEST_SUITE_END()
