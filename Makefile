# ebprof — build, test, demo, bench.  `make help` lists the targets.
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION   := 0.1.0

BUILD     := build
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
             -Iinclude -Iuser -I$(BUILD) -DEBPROF_VERSION=\"$(VERSION)\" -MMD -MP
LDLIBS    += -lbpf -ldw -lelf -lz -ljansson -lprotobuf-c -lstdc++
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Iinclude -Ibpf \
              -Wall -Wno-unused-function -MMD -MP

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
# user/<stage>/*.c: one folder per stage of the pipeline (docs/ARCHITECTURE.md)
USER_DIRS := $(sort $(dir $(wildcard user/*/*.c)))
USER_SRCS := $(wildcard $(addsuffix *.c,$(USER_DIRS)))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
# pprof: C generated from user/output/profile.proto at build time (protoc-c).
PROTO_OBJS := $(BUILD)/proto/profile.pb-c.o
USER_OBJS += $(PROTO_OBJS)
LIB_OBJS  := $(filter-out $(BUILD)/user/cli/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
WL_SRCS   := $(wildcard tests/workloads/*.c)
WL_BINS   := $(patsubst tests/workloads/%.c,$(BUILD)/workloads/%,$(WL_SRCS))
WL_CXX_SRCS := $(wildcard tests/workloads/*.cc)
WL_CXX_BINS := $(patsubst tests/workloads/%.cc,$(BUILD)/workloads/%,$(WL_CXX_SRCS))
# Workloads are the targets: frame pointers kept, functions not inlined,
# like a production binary built for profiling.
WL_CFLAGS := -O2 -g -fno-omit-frame-pointer -fno-inline-small-functions -Wall -Werror -pthread

# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test unit e2e demo bench vmlinux clean help workloads format format-check
all: ebprof workloads

help:
	@echo "make            build ebprof and the test workloads"
	@echo "make deps       install the Debian packages ebprof needs (root)"
	@echo "make test       deps + build + unit tests + e2e tests (root)"
	@echo "make unit       unit tests only (no privileges)"
	@echo "make e2e        end-to-end tests with real BPF (root)"
	@echo "make fuzz       build the parser fuzzers, run each FUZZ_SECONDS (default 30)"
	@echo "make demo       deps + build + profile the bundled demo workload"
	@echo "make bench      overhead benchmarks against perf/bpftrace (root)"
	@echo "make vmlinux    regenerate vmlinux/vmlinux.h from this kernel's BTF"
	@echo "make format     reformat the C sources (.clang-format); format-check only checks"

deps:
	scripts/deps.sh

ebprof: $(USER_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.bpf.o: bpf/%.bpf.c vmlinux/vmlinux.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: user/output/%.proto
	@mkdir -p $(@D)
	protoc-c --proto_path=user/output --c_out=$(BUILD)/proto $<

$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c
	$(CC) $(CFLAGS) -Wno-unused-parameter -c $< -o $@

$(BUILD)/user/output/pprof.o: $(BUILD)/proto/profile.pb-c.h

$(BUILD)/user/%.o: user/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)/tests
	$(CC) $(CFLAGS) -Wno-unused-parameter -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka

$(BUILD)/workloads/%: tests/workloads/%.c $(wildcard tests/workloads/*.h) | $(BUILD)/workloads
	$(CC) $(WL_CFLAGS) -o $@ $< -lm

# The unwinder's workload: no frame pointers, as a PIE and not.
WL_NOFP := -O2 -g -fomit-frame-pointer -Wall -Werror -pthread
$(BUILD)/workloads/unwind: WL_CFLAGS := $(WL_NOFP) -fPIE -pie
$(BUILD)/workloads/unwind_nopie: tests/workloads/unwind.c tests/workloads/gate.h | $(BUILD)/workloads
	$(CC) $(WL_NOFP) -fno-pie -no-pie -o $@ $<

# C++ workloads (operator new/delete): g++ -O2, frame pointers kept.
$(BUILD)/workloads/%: tests/workloads/%.cc tests/workloads/gate.h | $(BUILD)/workloads
	$(CXX) -O2 -g -fno-omit-frame-pointer -fno-inline-small-functions -Wall -Werror -o $@ $<

# symless: two libraries without a .symtab (.dynsym only; no symbols).
$(BUILD)/workloads/libsymless_dyn.so: tests/workloads/lib/symless.c | $(BUILD)/workloads
	$(CC) $(WL_CFLAGS) -fPIC -shared -DSYMLESS_EXPORT -DSYMLESS_ENTRY=symless_dyn_entry -o $@.full $<
	strip --strip-all -o $@ $@.full
	rm -f $@.full
$(BUILD)/workloads/libsymless_none.so: tests/workloads/lib/symless.c | $(BUILD)/workloads
	$(CC) $(WL_CFLAGS) -fPIC -shared -DSYMLESS_ENTRY=symless_none_entry -o $@.full $<
	strip --strip-all -o $@ $@.full
	rm -f $@.full
$(BUILD)/workloads/symless: tests/workloads/symless.c tests/workloads/gate.h \
		$(BUILD)/workloads/libsymless_dyn.so $(BUILD)/workloads/libsymless_none.so
	$(CC) $(WL_CFLAGS) -o $@ $< -L$(BUILD)/workloads -lsymless_dyn -lsymless_none \
		-Wl,-rpath,'$$ORIGIN'

# shortlib: a short command whose time is in its DT_NEEDED library.
$(BUILD)/workloads/libshortlib.so: tests/workloads/lib/shortlib.c | $(BUILD)/workloads
	$(CC) $(WL_CFLAGS) -fPIC -shared -o $@ $<
$(BUILD)/workloads/shortlib: tests/workloads/shortlib.c tests/workloads/gate.h \
		$(BUILD)/workloads/libshortlib.so
	$(CC) $(WL_CFLAGS) -o $@ $< -L$(BUILD)/workloads -lshortlib -Wl,-rpath,'$$ORIGIN'

# slowinit: its library's constructor sleeps before the entry point.
$(BUILD)/workloads/libslowinit.so: tests/workloads/lib/slowinit.c | $(BUILD)/workloads
	$(CC) $(WL_CFLAGS) -fPIC -shared -o $@ $<
$(BUILD)/workloads/slowinit: tests/workloads/slowinit.c $(BUILD)/workloads/libslowinit.so
	$(CC) $(WL_CFLAGS) -o $@ $< -L$(BUILD)/workloads -lslowinit -Wl,-rpath,'$$ORIGIN'

# A static executable (the entry point with no dynamic loader).
$(BUILD)/workloads/fixedwork_static: tests/workloads/fixedwork.c tests/workloads/gate.h | $(BUILD)/workloads
	$(CC) $(WL_CFLAGS) -static -o $@ $< -lm

# The mem report's sites without frame pointers (the unwinder at uprobes).
$(BUILD)/workloads/memsites_nofp: tests/workloads/memsites.c tests/workloads/gate.h | $(BUILD)/workloads
	$(CC) $(WL_NOFP) -o $@ $<

# The library the unwind workload dlopens (UNWIND_DL names it).
$(BUILD)/workloads/libunwind_dl.so: tests/workloads/dl/unwind_dl.c | $(BUILD)/workloads
	$(CC) $(WL_NOFP) -fPIC -shared -o $@ $<

# Calls through a lazy .plt into a library, without frame pointers: plt,
# and plt_ibt with IBT's .plt.sec in front of its lazy .plt.
WL_PLT := -Wl,-z,lazy -L$(BUILD)/workloads -lplt -Wl,-rpath,'$$ORIGIN'
$(BUILD)/workloads/libplt.so: tests/workloads/lib/plt.c | $(BUILD)/workloads
	$(CC) $(WL_NOFP) -fPIC -shared -o $@ $<
$(BUILD)/workloads/plt: tests/workloads/plt.c tests/workloads/gate.h $(BUILD)/workloads/libplt.so
	$(CC) $(WL_NOFP) -o $@ $< $(WL_PLT)
$(BUILD)/workloads/plt_ibt: tests/workloads/plt.c tests/workloads/gate.h $(BUILD)/workloads/libplt.so
	$(CC) $(WL_NOFP) -fcf-protection=full -o $@ $< $(WL_PLT) -Wl,-z,ibtplt

workloads: $(WL_BINS) $(WL_CXX_BINS) $(BUILD)/workloads/unwind_nopie $(BUILD)/workloads/memsites_nofp \
	   $(BUILD)/workloads/libunwind_dl.so $(BUILD)/workloads/plt_ibt \
	   $(BUILD)/workloads/fixedwork_static

$(BUILD) $(BUILD)/tests $(BUILD)/workloads:
	mkdir -p $@

-include tests/unit/fixtures.mk
-include tests/fuzz/fuzz.mk

unit: $(UNIT_BINS) $(UNIT_FIXTURES)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

e2e: ebprof workloads
	tests/e2e/run.sh

# The C sources in the project's one style (.clang-format).
FORMAT_SRCS = $(shell git ls-files 'user/*.[ch]' 'bpf/*.[ch]' 'include/*.h' \
		'tests/unit/*.c' 'tests/workloads/*.[ch]' 'tests/fuzz/*.c' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRCS)
format-check:
	@clang-format --dry-run -Werror $(FORMAT_SRCS) && echo "format: clean"

test: deps
	$(MAKE) format-check
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) e2e

demo: deps
	$(MAKE) all
	scripts/demo.sh

bench: all
	scripts/bench.sh

vmlinux:
	scripts/gen-vmlinux.sh > vmlinux/vmlinux.h.tmp && mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

clean:
	rm -rf $(BUILD) ebprof

-include $(wildcard $(BUILD)/*.d $(BUILD)/user/*/*.d $(BUILD)/tests/*.d)
