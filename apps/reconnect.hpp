// Surviving a lost hub: run a session, and when the connection is lost
// (RequestError unavailable) connect again and run it again, backing off
// from 0.25 s to 4 s between attempts, for up to a time budget.
#pragma once

#include <chrono>
#include <functional>

namespace fedhub::cli {

// Calls `attempt` until it returns. `attempt` connects, calls the
// `connected` callback it is given (which resets the budget and the
// back-off), and works. A budget of zero or less gives up at the first loss;
// otherwise the loss is thrown once the hub has been unreachable for longer
// than the budget. Other errors are thrown at once. Progress goes to stderr.
void with_reconnect(std::chrono::duration<double> budget,
                    const std::function<void(const std::function<void()>& connected)>& attempt);

}  // namespace fedhub::cli
