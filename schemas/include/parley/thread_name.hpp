#pragma once
/// Thread names (what `top -H`, `ps -L` and perf show). Linux keeps 15 characters; a
/// longer name is cut. Both do nothing where threads cannot be named.
#include <thread>

namespace parley {

/// Names the calling thread (for threads parley does not create itself, such as a
/// detached actor's).
void name_this_thread(const char* name) noexcept;

/// Names `thread` from the thread that created it, so the name is in place before the
/// creator goes on (a "ready" line printed afterwards never sees an unnamed thread).
void name_thread(std::thread& thread, const char* name) noexcept;

}  // namespace parley
