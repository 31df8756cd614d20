#pragma once
// StateFile: the incident state under state.dir, written atomically (temp file, fsync, rename,
// fsync of the directory) so a crash leaves either the old or the new file, never half of one.
// A corrupt, truncated or wrong-typed file is reported and moved aside (<name>.corrupt-<unix>),
// never fatal. Not thread-safe: used from the pipeline thread.
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
  // For callers whose own validation of a loaded file fails: moves the file aside like a corrupt
  // one, logs `why`, and sets corrupt_note.
  void set_aside(const std::string& why);
  const std::string& corrupt_note() const { return corrupt_note_; }
  std::string path() const { return dir_ + "/" + name_; }

 private:
  std::string dir_, name_;
  std::string corrupt_note_;
};

}  // namespace podmedic::incidents
