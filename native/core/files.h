// Files a user names, opened so that no file can hang, crash or exhaust the process: the descriptor is opened without
// blocking (a FIFO with no writer cannot stall the open) and checked with fstat before a byte is read, so a directory,
// a device such as /dev/zero (which never ends), a FIFO or a socket is refused by name. Torch-free.
#pragma once
#include <cstdint>
#include <string>

#include <sys/stat.h>

namespace tn {

// An open descriptor of `path`, a regular file, and its fstat. `what` names the file's role in messages ("weight
// file"). Throws ERR_IO naming the file when it cannot be opened, `notRegularCode` (ERR_BAD_WEIGHTS, ERR_BAD_DATA,
// ...) naming it and what it is when it is not a regular file. The caller closes the descriptor.
int openRegularFile(const std::string& path, const std::string& what, const char* notRegularCode, struct stat& st);

// The whole of `path` (openRegularFile's checks), as many bytes as fstat reported: memory bounded by the file's real
// size. Throws ERR_IO naming the file when a read fails.
std::string readRegularFile(const std::string& path, const std::string& what, const char* notRegularCode);

// Whether something exists at `path`, without opening it (opening a FIFO to find out would block).
bool pathExists(const std::string& path);

}  // namespace tn
