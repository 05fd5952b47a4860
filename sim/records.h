// Binary record streams between daa-gen and a Verilator harness.
//
// daa-gen writes records of NI little-endian u32 words to the harness's stdin and reads
// records of NO words back from its stdout, one output record per input record, in order.
// Batching keeps the pipe traffic cheap; the harness (templates/harness.cpp) only maps
// words to ports.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace daa {

class RecordStream {
  public:
    RecordStream(size_t words_in, size_t words_out, size_t batch = 4096)
        : ni_(words_in), no_(words_out), batch_(batch), in_(words_in * batch), out_(words_out * batch) {}

    // Reads up to one batch of whole records; 0 at the end of the input.
    size_t read() { return fread(in_.data(), sizeof(uint32_t) * ni_, batch_, stdin); }

    // Writes the first n output records; false if the reader went away.
    bool write(size_t n) { return fwrite(out_.data(), sizeof(uint32_t) * no_, n, stdout) == n; }

    const uint32_t* input(size_t r) const { return &in_[r * ni_]; }
    uint32_t* output(size_t r) { return &out_[r * no_]; }

  private:
    size_t ni_, no_, batch_;
    std::vector<uint32_t> in_, out_;
};

}  // namespace daa
