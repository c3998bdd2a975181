# Fuzzing the parsers of what the target hands us (/proc/PID/maps text, ELF
# images, kallsyms text, perf maps), of saved profiles and of --assert expressions with
# libFuzzer.  Included by the Makefile; not part
# of `make test`.  `make fuzz` builds every harness and runs each one for
# FUZZ_SECONDS from the seed corpus in tests/fuzz/corpus/<name>/; new inputs
# go to $(BUILD)/fuzz/corpus/<name>/, crashes to $(BUILD)/fuzz/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_FLAGS   ?= -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_NAMES   := procmaps elf kallsyms saved assert perfmap
FUZZ_BINS    := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES))

# The user sources each harness needs (never main.c).
FUZZ_SRCS_procmaps := user/symbols/procmaps.c user/util/util.c
FUZZ_SRCS_elf      := user/symbols/elfsym.c user/util/util.c
FUZZ_SRCS_kallsyms := user/symbols/kallsyms.c user/symbols/elfsym.c user/util/util.c
FUZZ_SRCS_saved    := user/load/saved.c user/model/profile.c user/model/runmeta.c user/util/util.c
FUZZ_SRCS_perfmap  := user/symbols/perfmap.c user/util/util.c
FUZZ_SRCS_assert   := user/model/assertion.c user/model/rowkey.c user/model/profile.c user/util/util.c
# Libraries beyond libelf and zlib.
FUZZ_LIBS_saved    := -ljansson

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR):
	mkdir -p $@

define FUZZ_RULE
$(FUZZ_DIR)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $(FUZZ_SRCS_$(1)) $(wildcard user/*/*.h) | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) -std=gnu11 -Wall -Wextra -Werror -Iuser -o $$@ \
		$$< $(FUZZ_SRCS_$(1)) -lelf -lz $(FUZZ_LIBS_$(1))
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call FUZZ_RULE,$(n))))

fuzz: $(FUZZ_BINS)
	@set -e; for n in $(FUZZ_NAMES); do \
		echo "== fuzz_$$n ($(FUZZ_SECONDS) s)"; \
		mkdir -p $(FUZZ_DIR)/corpus/$$n; \
		$(FUZZ_DIR)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/fuzz_$$n- \
			$(FUZZ_DIR)/corpus/$$n tests/fuzz/corpus/$$n; \
	done
