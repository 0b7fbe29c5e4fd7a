#include "client/system_config.hpp"

#include <caf/io/middleman.hpp>

namespace fedhub {

SystemConfig::SystemConfig(int threads) {
  load<caf::io::middleman>();
  set("scheduler.max-threads", static_cast<size_t>(threads < 1 ? 1 : threads));
  // Programs print their own errors; keep CAF's console logger quiet.
  set("logger.console", caf::atom("none"));
}

}  // namespace fedhub
