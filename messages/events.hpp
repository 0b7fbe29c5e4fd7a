// Events pushed to subscribers (schemas/event.fbs).
#pragma once

#include <span>

#include "messages/buffer.hpp"
#include "messages/event_generated.h"

namespace fedhub::events {

Buffer version_published(fb::VersionPublishedT body);
Buffer contribution_accepted(fb::ContributionAcceptedT body);
Buffer version_evaluated(fb::VersionEvaluatedT body);

// Verifies an event; throws RequestError(bad_request).
const fb::Event* verify(std::span<const char> data);

}  // namespace fedhub::events
