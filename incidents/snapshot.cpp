#include "incidents/snapshot.h"

#include "core/parse.h"

namespace podmedic::incidents {

void IncidentSnapshot::soon() {
  if (queued_) return;
  queued_ = true;
  auto rebuild = [](IncidentSnapshot* self) -> boost::asio::awaitable<void> {
    self->queued_ = false;
    self->refresh();
    co_return;
  };
  tasks_.spawn("snapshot", rebuild(this));
}

void IncidentSnapshot::refresh() {
  nlohmann::json list = nlohmann::json::array();
  std::size_t resolved = 0;
  for (const auto* inc : tracker_.incidents()) {
    if (!inc->open() && ++resolved > kMaxResolved) break;
    list.push_back(api_json(*inc, facts_.describe(*inc)));
  }
  if (also_) also_(list);
  auto body = std::make_shared<const std::string>(parse::dump(list));
  std::lock_guard lock(mu_);
  body_ = std::move(body);
}

std::shared_ptr<const std::string> IncidentSnapshot::get() const {
  std::lock_guard lock(mu_);
  return body_;
}

}  // namespace podmedic::incidents
