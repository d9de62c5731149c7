// Returns a loaded data plane to the state it had just after its load, so
// that a table of fixtures can share one load: MapSnapshot records every
// map its programs use (entries of hash maps, values of arrays) and puts
// them back, draining ring buffers; the caller then writes its
// configuration again. Under software emulation a load of the CE costs
// seconds of verifier time (tests/guest/README.md), a restore milliseconds.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

namespace mapgw::testing {

class MapSnapshot {
 public:
  MapSnapshot() = default;
  MapSnapshot(const MapSnapshot&) = delete;
  MapSnapshot& operator=(const MapSnapshot&) = delete;

  // Records every map of the programs @progs.
  void take(std::initializer_list<int> progs) {
    maps_.clear();
    std::set<uint32_t> ids;
    for (int prog : progs) {
      uint32_t buf[64];
      bpf_prog_info info{};
      info.nr_map_ids = 64;
      info.map_ids = reinterpret_cast<uint64_t>(buf);
      uint32_t len = sizeof info;
      ASSERT_EQ(bpf_obj_get_info_by_fd(prog, &info, &len), 0) << std::strerror(errno);
      ids.insert(buf, buf + std::min<uint32_t>(info.nr_map_ids, 64));
    }
    for (uint32_t id : ids) {
      Saved s;
      s.fd = bpf_map_get_fd_by_id(id);
      ASSERT_GE(s.fd, 0) << std::strerror(errno);
      uint32_t len = sizeof s.info;
      ASSERT_EQ(bpf_obj_get_info_by_fd(s.fd, &s.info, &len), 0);
      ASSERT_NO_FATAL_FAILURE(record(s));
      maps_.push_back(std::move(s));
    }
  }

  // Puts back what take() recorded.
  void restore() const {
    for (const Saved& s : maps_) ASSERT_NO_FATAL_FAILURE(put_back(s));
  }

  ~MapSnapshot() {
    for (const Saved& s : maps_) close(s.fd);
  }

 private:
  enum class Kind { kKeyed, kArray, kMmapArray, kRing, kLeft };
  struct Saved {
    int fd = -1;
    bpf_map_info info{};
    Kind kind = Kind::kLeft;
    std::vector<std::vector<uint8_t>> keys, values;
    std::vector<uint8_t> region;  // an mmapable array's whole contents
  };

  static size_t value_len(const bpf_map_info& m) {
    const size_t slot = (m.value_size + 7) & ~7u;
    switch (m.type) {
      case BPF_MAP_TYPE_PERCPU_ARRAY:
      case BPF_MAP_TYPE_PERCPU_HASH:
      case BPF_MAP_TYPE_LRU_PERCPU_HASH:
        return slot * libbpf_num_possible_cpus();
      default:
        return m.value_size;
    }
  }

  static Kind kind_of(const bpf_map_info& m) {
    switch (m.type) {
      case BPF_MAP_TYPE_HASH:
      case BPF_MAP_TYPE_LRU_HASH:
      case BPF_MAP_TYPE_PERCPU_HASH:
      case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      case BPF_MAP_TYPE_DEVMAP_HASH:
      case BPF_MAP_TYPE_LPM_TRIE:
        return Kind::kKeyed;
      case BPF_MAP_TYPE_ARRAY:
        if (m.map_flags & BPF_F_RDONLY_PROG) return Kind::kLeft;  // frozen .rodata
        return (m.map_flags & BPF_F_MMAPABLE) ? Kind::kMmapArray : Kind::kArray;
      case BPF_MAP_TYPE_PERCPU_ARRAY:
        return Kind::kArray;
      case BPF_MAP_TYPE_RINGBUF:
        return Kind::kRing;
      default:  // program arrays, CPU maps: only the load writes them
        return Kind::kLeft;
    }
  }

  static size_t region_len(const bpf_map_info& m) {
    return static_cast<size_t>(m.max_entries) * ((m.value_size + 7) & ~7u);
  }

  static void record(Saved& s) {
    const bpf_map_info& m = s.info;
    s.kind = kind_of(m);
    std::vector<uint8_t> value(value_len(m));
    switch (s.kind) {
      case Kind::kKeyed: {
        std::vector<uint8_t> key(m.key_size), next(m.key_size);
        const void* prev = nullptr;  // NULL asks for the first key
        while (bpf_map_get_next_key(s.fd, prev, next.data()) == 0) {
          ASSERT_EQ(bpf_map_lookup_elem(s.fd, next.data(), value.data()), 0) << m.name;
          s.keys.push_back(next);
          s.values.push_back(value);
          key = next;
          prev = key.data();
        }
        break;
      }
      case Kind::kArray:
        for (uint32_t i = 0; i < m.max_entries; ++i) {
          ASSERT_EQ(bpf_map_lookup_elem(s.fd, &i, value.data()), 0) << m.name;
          s.values.push_back(value);
        }
        break;
      case Kind::kMmapArray: {  // the flow caches: megabytes
        void* p = mmap(nullptr, region_len(m), PROT_READ, MAP_SHARED, s.fd, 0);
        ASSERT_NE(p, MAP_FAILED) << m.name << ": " << std::strerror(errno);
        s.region.assign(static_cast<uint8_t*>(p), static_cast<uint8_t*>(p) + region_len(m));
        munmap(p, region_len(m));
        break;
      }
      case Kind::kRing:
      case Kind::kLeft:
        break;
    }
  }

  static void put_back(const Saved& s) {
    const bpf_map_info& m = s.info;
    switch (s.kind) {
      case Kind::kKeyed: {
        std::vector<std::vector<uint8_t>> now;
        std::vector<uint8_t> key(m.key_size), next(m.key_size);
        const void* prev = nullptr;
        while (bpf_map_get_next_key(s.fd, prev, next.data()) == 0) {
          now.push_back(next);
          key = next;
          prev = key.data();
        }
        for (auto& k : now) {
          ASSERT_TRUE(bpf_map_delete_elem(s.fd, k.data()) == 0 || errno == ENOENT)
              << m.name << ": " << std::strerror(errno);
        }
        for (size_t i = 0; i < s.keys.size(); ++i) {
          ASSERT_EQ(bpf_map_update_elem(s.fd, s.keys[i].data(), s.values[i].data(), BPF_ANY), 0) << m.name;
        }
        break;
      }
      case Kind::kArray:
        for (uint32_t i = 0; i < m.max_entries; ++i) {
          ASSERT_EQ(bpf_map_update_elem(s.fd, &i, s.values[i].data(), BPF_ANY), 0)
              << m.name << ": " << std::strerror(errno);
        }
        break;
      case Kind::kMmapArray: {
        void* p = mmap(nullptr, region_len(m), PROT_READ | PROT_WRITE, MAP_SHARED, s.fd, 0);
        ASSERT_NE(p, MAP_FAILED) << m.name << ": " << std::strerror(errno);
        std::memcpy(p, s.region.data(), region_len(m));
        munmap(p, region_len(m));
        break;
      }
      case Kind::kRing: {
        ring_buffer* rb = ring_buffer__new(s.fd, [](void*, void*, size_t) { return 0; }, nullptr, nullptr);
        ASSERT_NE(rb, nullptr) << m.name << ": " << std::strerror(errno);
        ring_buffer__consume(rb);
        ring_buffer__free(rb);
        break;
      }
      case Kind::kLeft:
        break;
    }
  }

  std::vector<Saved> maps_;
};

}  // namespace mapgw::testing
