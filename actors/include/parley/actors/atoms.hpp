#pragma once
/// Every atom Parley's actors use, in one place (CAF 0.17: at most 10 characters).
#include <caf/atom.hpp>

namespace parley::actors {

using append_atom = caf::atom_constant<caf::atom("append")>;
using status_atom = caf::atom_constant<caf::atom("status")>;

}  // namespace parley::actors
