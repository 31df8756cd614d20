#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace {

// Tests never reach the default ollama.url (127.0.0.1:11434): a test that needs an LLM gives the
// pipeline an in-process fake (tests/fake_llm.h, PipelineOptions::llm) or its config an HttpMock.
// While a test process runs, it holds 11434 on loopback if it can (another test process running
// in parallel, or a real Ollama, may hold it already) and aborts on the first connection, loudly:
// a silent "connection refused" would turn into a rules-only path nobody meant to test, and a
// developer's real Ollama into a slow, flaky test.
class OllamaPortGuard {
 public:
  OllamaPortGuard() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    int one = 1;
    (void)::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(11434);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 4) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    thread_ = std::thread([fd = fd_] {
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;  // shut down at exit
      std::fprintf(stderr,
                   "\n\nFATAL: a test connected to 127.0.0.1:11434, the default ollama.url (this "
                   "process or a test running beside it). Give it an in-process LLM "
                   "(tests/fake_llm.h via PipelineOptions::llm), an HttpMock as ollama.url, or "
                   "diagnosis.enabled: false.\n\n");
      std::fflush(stderr);
      std::abort();
    });
  }
  ~OllamaPortGuard() {
    if (fd_ < 0) return;
    ::shutdown(fd_, SHUT_RDWR);  // wakes the accept
    thread_.join();
    ::close(fd_);
  }

 private:
  int fd_ = -1;
  std::thread thread_;
};

const OllamaPortGuard guard;

}  // namespace
