#include "apps/reconnect.hpp"

#include <iostream>
#include <optional>
#include <thread>

#include "messages/errors.hpp"

namespace fedhub::cli {

void with_reconnect(std::chrono::duration<double> budget,
                    const std::function<void(const std::function<void()>& connected)>& attempt) {
  std::optional<std::chrono::steady_clock::time_point> lost_at;
  auto backoff = std::chrono::milliseconds(250);
  auto connected = [&] {
    if (lost_at) std::cerr << "reconnected to the hub" << std::endl;
    lost_at.reset();
    backoff = std::chrono::milliseconds(250);
  };
  for (;;) {
    try {
      attempt(connected);
      return;
    } catch (const RequestError& e) {
      if (e.code() != ErrorCode::unavailable || budget.count() <= 0) throw;
      const auto now = std::chrono::steady_clock::now();
      if (!lost_at) {
        lost_at = now;
        std::cerr << e.describe() << "; trying to reconnect for up to " << budget.count() << " s" << std::endl;
      } else if (now - *lost_at > budget) {
        throw;
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(4000));
    }
  }
}

}  // namespace fedhub::cli
