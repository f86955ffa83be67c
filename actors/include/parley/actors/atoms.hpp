#pragma once
/// Every atom Parley's actors use, in one place (CAF 0.17: at most 10 characters).
#include <caf/atom.hpp>

namespace parley::actors {

using status_atom = caf::atom_constant<caf::atom("status")>;

}  // namespace parley::actors

namespace parley::actors {

using inbound_atom = caf::atom_constant<caf::atom("inbound")>;
using retire_atom = caf::atom_constant<caf::atom("retire")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using committed_atom = caf::atom_constant<caf::atom("committed")>;
using pstatus_atom = caf::atom_constant<caf::atom("pstatus")>;
using command_atom = caf::atom_constant<caf::atom("command")>;
using quiesce_atom = caf::atom_constant<caf::atom("quiesce")>;
using merge_atom = caf::atom_constant<caf::atom("merge")>;
using consent_atom = caf::atom_constant<caf::atom("consent")>;
using send_atom = caf::atom_constant<caf::atom("send")>;
using result_atom = caf::atom_constant<caf::atom("sendres")>;
using released_atom = caf::atom_constant<caf::atom("released")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using replay_atom = caf::atom_constant<caf::atom("replay")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using purge_atom = caf::atom_constant<caf::atom("purge")>;
using erase_atom = caf::atom_constant<caf::atom("erase")>;

}  // namespace parley::actors
