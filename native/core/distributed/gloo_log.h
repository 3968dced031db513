// Gloo's connection log kept off the host process's stderr.
#pragma once

namespace tn {

// Gloo as Debian sid ships it beside LibTorch 2.14 (libgloo 2025-09) writes "[./gloo/transport/tcp/context.cc:243] INFO
// Rank 0 is connected to 1. Expected number of connected peers is: 1" to std::cerr each time a group connects, with no
// setting to turn it off (GLOO_INFO is std::cerr, unconditionally); the Gloo of Debian 12 and 13 writes nothing. The
// addon lives in someone else's process and prints nothing of its own, so std::cerr's buffer is wrapped once in a
// filter that drops those INFO lines and passes everything else through unchanged (Gloo's WARN and ERROR lines
// included). Called when the addon loads, before any job thread exists; the filter lives as long as the process.
void dropGlooInfoLines();

}  // namespace tn
