// A checkpoint's bytes sealed with a checksum, verified before any parser sees them. Torch-free, so the fuzzer
// reaches it (fuzz/sealed.cc). Layout: the archive LibTorch's OutputArchive writes (a zip), then a 20-byte trailer:
//   "TNCKPT\x01\n" (8 bytes) | the archive's length (8, little-endian) | CRC-32 of the archive (4, little-endian).
// CRC-32 detects every error burst up to 32 bits, so any one changed byte, anywhere, is caught: in the archive by the
// CRC, in the trailer by the magic, the length or the CRC no longer agreeing.
#pragma once
#include <string>
#include <string_view>

namespace tn {

// `archive` with its trailer appended.
std::string sealCheckpoint(std::string archive);

// The archive inside the sealed checkpoint `bytes`, its CRC-32 over every byte verified (the archive's own zip CRCs
// are not: LibTorch deflates its code entries, which our stored-only zip reader does not read). Throws tn::Error(ERR_BAD_DATA) "Cannot read the checkpoint <file>: ..." when it is too
// short, carries no trailer (an older format), or does not match its checksum.
std::string_view openSealedCheckpoint(std::string_view bytes, const std::string& file);

}  // namespace tn
