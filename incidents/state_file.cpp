#include "incidents/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/log.h"
#include "core/parse.h"

namespace podmedic::incidents {
namespace fs = std::filesystem;

StateFile::StateFile(std::string dir, std::string name)
    : dir_(std::move(dir)), name_(std::move(name)) {}

Result<Ok> StateFile::prepare() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Error{"state.dir " + dir_ + ": cannot create: " + ec.message()};
  std::string probe = dir_ + "/.write-test";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Error{"state.dir " + dir_ + " is not writable: " + std::strerror(errno)};
  ::close(fd);
  ::unlink(probe.c_str());
  return Ok{};
}

std::optional<nlohmann::json> StateFile::load() {
  corrupt_note_.clear();
  std::ifstream f(path(), std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream ss;
  ss << f.rdbuf();
  auto j = parse::json_text(ss.str(), "state file");
  if (!j.ok()) {
    set_aside("corrupt or truncated");
    return std::nullopt;
  }
  if (!j->is_object() || parse::get_integer<int>(*j, "version") != 1) {
    set_aside("not a version 1 state object");
    return std::nullopt;
  }
  return std::move(j).value();
}

void StateFile::set_aside(const std::string& why) {
  // Kept for a human to look at; podmedic starts afresh (or from what was readable).
  std::string aside = path() + ".corrupt-" + std::to_string(std::time(nullptr));
  std::error_code ec;
  fs::rename(path(), aside, ec);
  corrupt_note_ = "state file " + path() + " is " + why + "; moved to " + aside;
  log::error("incidents", "state file set aside",
             {{"path", path()}, {"why", why}, {"movedTo", aside}});
}

Result<Ok> StateFile::save(const nlohmann::json& state) {
  std::string tmp = path() + ".tmp";
  std::string text = parse::dump(state);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Error{"cannot write " + tmp + ": " + std::strerror(errno)};
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Error{"cannot write " + tmp + ": " + std::strerror(e)};
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    return Error{"cannot fsync " + tmp + ": " + std::strerror(e)};
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path().c_str()) != 0) {
    return Error{"cannot replace " + path() + ": " + std::strerror(errno)};
  }
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok{};
}

}  // namespace podmedic::incidents
