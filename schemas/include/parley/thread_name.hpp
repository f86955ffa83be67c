#pragma once
/// Names the calling thread (what `top -H`, `ps -L` and perf show). Linux keeps 15
/// characters; a longer name is cut. Does nothing where threads cannot be named.
namespace parley {

void name_this_thread(const char* name) noexcept;

}  // namespace parley
