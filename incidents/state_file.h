#pragma once
// StateFile: the incident state under state.dir, written atomically (temp file, fsync, rename,
// fsync of the directory) so a crash leaves either the old or the new file, never half of one.
// A corrupt or truncated file is reported and moved aside (<name>.corrupt-<unix>), never fatal.
// Not thread-safe: used from the pipeline thread.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace podmedic::incidents {

class StateFile {
 public:
  explicit StateFile(std::string dir, std::string name = "incidents.json");
  // Creates the directory if needed and checks it is writable.
  Result<Ok> prepare();
  // nullopt when there is no state yet (first start) or it was corrupt (then moved aside and
  // `corrupt_note` says where).
  std::optional<nlohmann::json> load();
  Result<Ok> save(const nlohmann::json& state);
  const std::string& corrupt_note() const { return corrupt_note_; }
  std::string path() const { return dir_ + "/" + name_; }

 private:
  std::string dir_, name_;
  std::string corrupt_note_;
};

}  // namespace podmedic::incidents
