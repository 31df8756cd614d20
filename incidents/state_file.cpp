#include "incidents/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
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

prometheus::Counter& state_write_errors(prometheus::Registry& registry, const std::string& file) {
  return prometheus::BuildCounter()
      .Name("podmedic_state_write_errors_total")
      .Help("Failed writes of state files under state.dir (retried on the next tick), by file")
      .Register(registry)
      .Add({{"file", file}});
}

Result<Ok> StateFile::ensure_dir() {
  // The last component owner-only (incident state and outboxes hold log excerpts); missing
  // parents as the umask says, like `mkdir -p`.
  if (::mkdir(dir_.c_str(), 0700) == 0 || errno == EEXIST) return Ok{};
  if (errno != ENOENT)
    return Error{"state.dir " + dir_ + ": cannot create: " + std::strerror(errno)};
  std::error_code ec;
  const fs::path parent = fs::path(dir_).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) return Error{"state.dir " + dir_ + ": cannot create: " + ec.message()};
  if (::mkdir(dir_.c_str(), 0700) == 0 || errno == EEXIST) return Ok{};
  return Error{"state.dir " + dir_ + ": cannot create: " + std::strerror(errno)};
}

Result<Ok> StateFile::prepare() {
  if (auto r = ensure_dir(); !r.ok()) return r;
  std::string probe = dir_ + "/.write-test";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
  std::lock_guard lock(save_mu_);
  const std::string tmp = path() + ".tmp";
  auto r = write_file(tmp, parse::dump(state));
  if (!r.ok()) {
    ::unlink(tmp.c_str());  // whatever step failed: no stray temp file (ENOENT when never made)
    last_error_ = r.error().message;
    healthy_.store(false, std::memory_order_relaxed);
    if (errors_) errors_->Increment();
    return r;
  }
  last_error_.clear();
  healthy_.store(true, std::memory_order_relaxed);
  return Ok{};
}

Result<Ok> StateFile::write_file(const std::string& tmp, const std::string& text) {
  auto fail = [&](const char* what, const std::string& p, int e) {
    return Error{std::string("cannot ") + what + " " + p + ": " + std::strerror(e)};
  };
  constexpr int kFlags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW;
  int fd = ::open(tmp.c_str(), kFlags, 0600);
  if (fd < 0 && errno == ENOENT) {
    // state.dir was deleted under us (an operator, a cleanup job): make it again.
    if (auto d = ensure_dir(); !d.ok()) return d;
    log::warn("incidents", "state.dir was missing; recreated it", {{"dir", dir_}});
    fd = ::open(tmp.c_str(), kFlags, 0600);
  }
  if (fd < 0) return fail("write", tmp, errno);
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write_ ? write_(fd, text.data() + off, text.size() - off)
                       : ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC;  // a 0-byte write of a non-empty buffer: no room
      ::close(fd);
      return fail("write", tmp, e);
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    return fail("fsync", tmp, e);
  }
  if (::close(fd) != 0) return fail("close", tmp, errno);  // NFS reports quota errors here
  if (::rename(tmp.c_str(), path().c_str()) != 0) return fail("replace", path(), errno);
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok{};
}

}  // namespace podmedic::incidents
