#pragma once
// TaskGroup: the owner of long-lived coroutines (reflectors, tick loops). Each is spawned with
// its own cancellation slot; stop() (also run by the destructor) cancels them all and runs the
// io_context until every one has finished, so nothing they reference is destroyed under them.
// An exception other than the cancellation itself is a bug: logged, then abort().
// Use from the io_context's thread, with the io_context outliving the group.
#include <cstddef>
#include <list>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>

namespace podmedic {

class TaskGroup {
 public:
  explicit TaskGroup(boost::asio::io_context& ioc) : ioc_(ioc) {}
  ~TaskGroup() { stop(); }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void spawn(std::string name, boost::asio::awaitable<void> task);
  void stop();
  std::size_t running() const { return running_; }

 private:
  boost::asio::io_context& ioc_;
  std::list<boost::asio::cancellation_signal> signals_;
  std::vector<std::list<boost::asio::cancellation_signal>::iterator> finished_;
  std::size_t running_ = 0;
  bool stopping_ = false;
};

}  // namespace podmedic
