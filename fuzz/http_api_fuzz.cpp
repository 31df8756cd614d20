// The HTTP API's request handler (routing, auth, body validation) as a pure function: method,
// target, Authorization, body and Content-Type from one input, split at NUL bytes.
#include <prometheus/registry.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>

#include "fuzz/fuzz_input.h"
#include "server/api.h"

#include "core/log.h"

using namespace podmedic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (podmedic::log::init(podmedic::log::Level::kOff), true);
  (void)quiet;
  static server::Handler handler = [] {
    server::ApiSources s;
    s.ready = [] { return true; };
    s.incidents = [] { return std::make_shared<const std::string>("[]"); };
    s.registry = std::make_shared<prometheus::Registry>();
    s.ask = [](std::string q) -> boost::asio::awaitable<server::Response> {
      co_return server::Response{
          200, "application/json", "{\"answer\":\"" + q.substr(0, 0) + "\"}", {}};
    };
    s.diagnose = [](std::string, std::string,
                    std::string) -> boost::asio::awaitable<server::Response> {
      co_return server::Response{};
    };
    return server::make_api(std::move(s), "secret-token");
  }();
  auto f = fuzz::split(data, size, 5);
  server::Request req{std::string(f[0]), std::string(f[1]), std::string(f[2]), std::string(f[3]),
                      std::string(f[4])};
  boost::asio::io_context ioc;
  server::Response out;
  bool done = false;
  auto run = [&]() -> boost::asio::awaitable<void> {
    auto op = handler(req);
    out = co_await std::move(op);
    done = true;
  };
  boost::asio::co_spawn(ioc, run(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);  // an exception through the handler is a finding
  });
  ioc.run();
  if (!done || out.status < 100 || out.status > 599) std::abort();
  return 0;
}
