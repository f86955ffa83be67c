#include "parley/thread_name.hpp"

#include <pthread.h>

#include <cstring>

namespace parley {

namespace {

void set_name(pthread_t handle, const char* name) noexcept {
  char cut[16];
  std::strncpy(cut, name, sizeof cut - 1);
  cut[sizeof cut - 1] = '\0';
  pthread_setname_np(handle, cut);
}

}  // namespace

void name_this_thread(const char* name) noexcept { set_name(pthread_self(), name); }

void name_thread(std::thread& thread, const char* name) noexcept {
  if (thread.joinable()) set_name(thread.native_handle(), name);
}

}  // namespace parley
