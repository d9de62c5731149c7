# bpf_object(NAME SRC) compiles one BPF C file into NAME.bpf.o against the
# committed vmlinux.h, generates its libbpf skeleton NAME.skel.h with bpftool,
# and exposes an INTERFACE target NAME_skel whose include path holds the
# skeleton. Link it from C++ code that opens the program.
find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

set(MAPGW_VMLINUX_DIR ${CMAKE_SOURCE_DIR}/vmlinux/x86_64)
set(MAPGW_BPF_DIR ${CMAKE_SOURCE_DIR}/bpf)

function(bpf_object name src)
  get_filename_component(src_abs ${src} ABSOLUTE)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/bpf_out)
  set(obj ${out_dir}/${name}.bpf.o)
  set(skel ${out_dir}/${name}.skel.h)
  set(dep ${out_dir}/${name}.bpf.d)
  file(MAKE_DIRECTORY ${out_dir})
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -mcpu=v3 -Wall -Werror
            -D__TARGET_ARCH_x86
            -I${MAPGW_VMLINUX_DIR} -I${MAPGW_BPF_DIR}
            -MD -MF ${dep}
            -c ${src_abs} -o ${obj}
    DEPENDS ${src_abs}
    DEPFILE ${dep}
    COMMENT "BPF ${name}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen ALL DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  target_include_directories(${name}_skel INTERFACE ${out_dir} ${MAPGW_BPF_DIR})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
  add_dependencies(${name}_skel ${name}_skel_gen)
endfunction()
