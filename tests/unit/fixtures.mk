# Fixture binaries for the symbolizer unit tests (tests/unit/test_symbolize.c):
# a PIE and a non-PIE executable linked against a small shared library (one
# of its symbols versioned), the library stripped to its .dynsym, and the PIE
# stripped with its symbols in a separate debug file found through
# .gnu_debuglink; and a PIE with IBT's .plt.sec in front of its lazy .plt
# (-z ibtplt), for the unwind rows of both (tests/unit/test_cfi.c); and a
# PIE bound at load (-z now: no .got.plt, its PLT slots in .got); and a PIE
# linked by gold, which puts .eh_frame_hdr after .eh_frame (libLLVM's order).
FIXT_DIR    := $(BUILD)/fixtures
FIXT_SRC    := tests/unit/fixtures
FIXT_CFLAGS := -O1 -g -fno-inline -Wall -Werror
OBJCOPY     ?= objcopy
STRIP       ?= strip

UNIT_FIXTURES += $(FIXT_DIR)/libfixture.so $(FIXT_DIR)/libfixture_stripped.so \
                 $(FIXT_DIR)/fixture_pie $(FIXT_DIR)/fixture_nopie \
                 $(FIXT_DIR)/fixture_stripped $(FIXT_DIR)/fixture_stripped.debug \
                 $(FIXT_DIR)/fixture_ibt $(FIXT_DIR)/fixture_now $(FIXT_DIR)/fixture_gold

$(FIXT_DIR):
	mkdir -p $@

$(FIXT_DIR)/libfixture.so: $(FIXT_SRC)/fixture_lib.c $(FIXT_SRC)/fixture_lib.map | $(FIXT_DIR)
	$(CC) $(FIXT_CFLAGS) -fPIC -shared -Wl,-soname,libfixture.so \
		-Wl,--version-script=$(FIXT_SRC)/fixture_lib.map -o $@ $<

$(FIXT_DIR)/libfixture_stripped.so: $(FIXT_DIR)/libfixture.so
	$(STRIP) --strip-all -o $@ $<

$(FIXT_DIR)/fixture_pie: $(FIXT_SRC)/fixture_main.c $(FIXT_DIR)/libfixture.so
	$(CC) $(FIXT_CFLAGS) -fPIE -pie -o $@ $< -L$(FIXT_DIR) -lfixture -Wl,-rpath,'$$ORIGIN'

$(FIXT_DIR)/fixture_nopie: $(FIXT_SRC)/fixture_main.c $(FIXT_DIR)/libfixture.so
	$(CC) $(FIXT_CFLAGS) -fno-pie -no-pie -o $@ $< -L$(FIXT_DIR) -lfixture -Wl,-rpath,'$$ORIGIN'

$(FIXT_DIR)/fixture_ibt: $(FIXT_SRC)/fixture_main.c $(FIXT_DIR)/libfixture.so
	$(CC) $(FIXT_CFLAGS) -fcf-protection=full -fPIE -pie -o $@ $< -L$(FIXT_DIR) -lfixture \
		-Wl,-z,lazy -Wl,-z,ibtplt -Wl,-rpath,'$$ORIGIN'

$(FIXT_DIR)/fixture_now: $(FIXT_SRC)/fixture_main.c $(FIXT_DIR)/libfixture.so
	$(CC) $(FIXT_CFLAGS) -fPIE -pie -o $@ $< -L$(FIXT_DIR) -lfixture -Wl,-z,now \
		-Wl,-rpath,'$$ORIGIN'

$(FIXT_DIR)/fixture_gold: $(FIXT_SRC)/fixture_main.c $(FIXT_DIR)/libfixture.so
	$(CC) $(FIXT_CFLAGS) -fuse-ld=gold -fPIE -pie -o $@ $< -L$(FIXT_DIR) -lfixture \
		-Wl,-rpath,'$$ORIGIN'

$(FIXT_DIR)/fixture_stripped.debug: $(FIXT_DIR)/fixture_pie
	$(OBJCOPY) --only-keep-debug $< $@

$(FIXT_DIR)/fixture_stripped: $(FIXT_DIR)/fixture_pie $(FIXT_DIR)/fixture_stripped.debug
	$(STRIP) --strip-all -o $@.tmp $<
	$(OBJCOPY) --add-gnu-debuglink=$(FIXT_DIR)/fixture_stripped.debug $@.tmp $@
	rm -f $@.tmp

# The tests read the fixtures at run time.
$(BUILD)/tests/test_symbolize: | $(UNIT_FIXTURES)
$(BUILD)/tests/test_cfi: | $(UNIT_FIXTURES)
