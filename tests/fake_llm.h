#pragma once
// An in-process LLM for tests (diagnosis::LlmClient): answers chat() with a fixed text or an
// error, records every prompt, and can hold calls at a gate until released (to fill the request
// lane). Thread-safe: the LLM service calls it from its worker threads.
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "diagnosis/llm.h"

namespace podmedic::test {

class FakeLlm final : public diagnosis::LlmClient {
 public:
  struct Prompt {
    std::string system, user;
  };

  Result<diagnosis::LlmAnswer> chat(const std::string& system, const std::string& user) override {
    std::unique_lock lock(mu_);
    prompts_.push_back({system, user});
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return !gated_ || cancelled_; });
    if (cancelled_) return Error{"LLM call cancelled"};
    if (!error_.empty()) return Error{error_};
    return diagnosis::LlmAnswer{answer_, model_, false};
  }
  Result<std::vector<std::string>> models() override {
    std::unique_lock lock(mu_);
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return !gated_ || cancelled_; });
    if (!error_.empty()) return Error{error_};
    return std::vector<std::string>{model_ + ":latest"};
  }
  const std::string& model() const override { return model_; }
  void cancel_all() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    changed_.notify_all();
  }

  void answer(std::string text) {
    std::lock_guard lock(mu_);
    answer_ = std::move(text);
    error_.clear();
  }
  void fail(std::string message) {
    std::lock_guard lock(mu_);
    error_ = std::move(message);
  }
  // Calls wait inside chat()/models() while gated.
  void gate(bool closed) {
    std::lock_guard lock(mu_);
    gated_ = closed;
    changed_.notify_all();
  }
  // Calls that reached chat()/models() so far.
  int entered() const {
    std::lock_guard lock(mu_);
    return entered_;
  }
  std::vector<Prompt> prompts() const {
    std::lock_guard lock(mu_);
    return prompts_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::string model_ = "fake-model";
  std::string answer_ = "The container runs out of memory.";
  std::string error_;
  bool gated_ = false, cancelled_ = false;
  int entered_ = 0;
  std::vector<Prompt> prompts_;  // bounded by the test's calls
};

}  // namespace podmedic::test
