#include "support/md5.h"

#include <openssl/evp.h>

#include <fstream>
#include <vector>

#include "support/error.h"

namespace llmcc {

struct Md5::State {
  EVP_MD_CTX* ctx = nullptr;
};

Md5::Md5() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  if (!state_->ctx || EVP_DigestInit_ex(state_->ctx, EVP_md5(), nullptr) != 1)
    internal_error("OpenSSL could not start an MD5 digest");
}

Md5::~Md5() { EVP_MD_CTX_free(state_->ctx); }

void Md5::update(const void* data, size_t size) {
  if (EVP_DigestUpdate(state_->ctx, data, size) != 1) internal_error("OpenSSL MD5 update failed");
}

std::string Md5::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(state_->ctx, digest, &len) != 1)
    internal_error("OpenSSL MD5 final failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

std::string Md5::of(const void* data, size_t size) {
  Md5 md5;
  md5.update(data, size);
  return md5.hex_digest();
}

std::string Md5::of_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) user_error("cannot read '{}'", path.string());
  Md5 md5;
  std::vector<char> buffer(size_t{1} << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    md5.update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) user_error("reading '{}' failed", path.string());
  return md5.hex_digest();
}

}  // namespace llmcc
