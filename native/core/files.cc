#include "core/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace tn {
namespace {

const char* kindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

int openRegularFile(const std::string& path, const std::string& what, const char* notRegularCode, struct stat& st) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw Error("ERR_IO", "Cannot open " + what + " \"" + path + "\": " + std::strerror(errno));
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error("ERR_IO", "Cannot stat " + what + " \"" + path + "\": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(notRegularCode, "The " + what + " \"" + path + "\" is " + kindOf(st.st_mode) + ", not a regular file");
  }
  // Reads of a regular file never block; clearing the flag keeps it so on file systems that honour it oddly.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

std::string readRegularFile(const std::string& path, const std::string& what, const char* notRegularCode) {
  struct stat st {};
  const int fd = openRegularFile(path, what, notRegularCode, st);
  std::string bytes;
  try {
    bytes.resize(static_cast<size_t>(st.st_size));
  } catch (const std::exception&) {
    ::close(fd);
    throw Error("ERR_OUT_OF_MEMORY", "The " + what + " \"" + path + "\" (" + std::to_string(st.st_size) + " bytes) does not fit in memory");
  }
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw Error("ERR_IO", "Cannot read " + what + " \"" + path + "\": " + std::strerror(err));
    }
    if (n == 0) break;  // the file shrank since fstat: what is there is what it holds
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(got);
  return bytes;
}

bool pathExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace tn
