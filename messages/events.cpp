#include "messages/events.hpp"

#include "messages/errors.hpp"

namespace fedhub::events {

namespace {

template <class T>
Buffer make(T body) {
  fb::EventT ev;
  ev.body.Set(std::move(body));
  ev.at_ms = now_ms();
  flatbuffers::FlatBufferBuilder fbb(512);
  fbb.Finish(fb::CreateEvent(fbb, &ev), fb::EventIdentifier());
  return to_buffer(fbb);
}

}  // namespace

Buffer version_published(fb::VersionPublishedT body) { return make(std::move(body)); }
Buffer contribution_accepted(fb::ContributionAcceptedT body) { return make(std::move(body)); }
Buffer version_evaluated(fb::VersionEvaluatedT body) { return make(std::move(body)); }

const fb::Event* verify(std::span<const char> data) {
  std::string why;
  const auto* e = verify_root<fb::Event>(data, fb::EventIdentifier(), &why);
  if (!e) throw RequestError(ErrorCode::bad_request, "event: " + why);
  if (e->body_type() == fb::EventBody::NONE) throw RequestError(ErrorCode::bad_request, "event: unknown event type");
  if (const auto* v = e->body_as_VersionEvaluated(); v && !scalars_aligned(v->per_class_accuracy()))
    throw RequestError(ErrorCode::bad_request, "event: misaligned per-class accuracies");
  return e;
}

}  // namespace fedhub::events
