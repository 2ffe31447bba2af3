# gilwatch: `make` builds into build/, `make check` runs every test.

PREFIX	?= /usr/local
DESTDIR	?=
VERSION	:= 0.1.0

CC	?= cc
CXX	?= g++
CFLAGS	?= -O2 -g
WARN	:= -Wall -Wextra -Wno-unused-parameter
BASE	:= -std=gnu11 -D_GNU_SOURCE -DGW_VERSION='"$(VERSION)"' -Iinclude -Isrc/common \
	-Isrc/reader -Isrc/format
# The shim: hidden by default, hooks export themselves.  No sibling calls:
# a dlsym(RTLD_NEXT) reached by a tail call resolves in the wrong object.
# Link-time optimisation lets the hooks inline the small calls into the
# thread registry and lock table they make on every lock operation: it
# takes 5 ns off the uncontended pair (`make LTO=` builds without).
LTO	?= -flto=auto
SHIM_CFLAGS := $(BASE) $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden \
	-ftls-model=initial-exec -fno-optimize-sibling-calls $(LTO) -Isrc/shim
CLI_CFLAGS  := $(BASE) $(WARN) $(CFLAGS) -Isrc/cli
TUI_CFLAGS  := $(BASE) $(WARN) $(CFLAGS) -Itui -Isrc/cli

# The shim loads libdw, libelf and zlib at their first use (lazylib.c);
# what links the readers otherwise names them (DW_LIBS).
SHIM_LIBS := -lunwind -ldl -lm -pthread
DW_LIBS   := -ldw -lelf -lz
CLI_LIBS  := -lncursesw -ldw -lelf -lz -pthread

B := build

COMMON_SRC := $(wildcard src/common/*.c)
# Reading a process (CPython, glibc's lock words) over one memory source:
# the shim reads its own process, the command another one or a core file.
READER_SRC := $(wildcard src/reader/*.c)
# The report formats, so that a dump from inside and one from outside
# are written by the same code.
FORMAT_SRC := $(wildcard src/format/*.c)
SHIM_SRC   := $(wildcard src/shim/*.c)
# The dlsym hook's entry (x86-64): see src/shim/hook-dlsym-entry.S.
SHIM_ASM   := $(wildcard src/shim/*.S)
# hook-*.c and shim.c interpose libc; everything else is plain logic that
# unit tests link from libgwcore.a without interposing on the test runner.
HOOK_SRC   := $(wildcard src/shim/hook-*.c) $(wildcard src/shim/shim.c)
# lazylib.c stands in for libdw, libelf and zlib in the shim alone.
LAZY_SRC   := src/shim/lazylib.c
CORE_SRC   := $(filter-out $(HOOK_SRC) $(LAZY_SRC),$(SHIM_SRC)) $(READER_SRC) \
	$(FORMAT_SRC) $(COMMON_SRC)
CLI_SRC    := $(wildcard src/cli/*.c) $(wildcard tui/*.c) $(READER_SRC) \
	$(FORMAT_SRC)
SAMPLE_SRC := $(wildcard samples/*.c)
UNIT_SRC   := $(wildcard tests/unit/test-*.c)
ITEST_SRC  := $(wildcard tests/integration/prog/*.c)
ITEST_CXX  := $(wildcard tests/integration/prog/*.cc)
BENCH_SO   := bench/idle-thread.c bench/forward.c
BENCH_SRC  := $(filter-out $(BENCH_SO),$(wildcard bench/*.c))

SHIM_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(SHIM_SRC) $(READER_SRC) \
	$(FORMAT_SRC) $(COMMON_SRC)) $(patsubst %.S,$(B)/obj/%.o,$(SHIM_ASM))
CORE_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(CORE_SRC))
CLI_OBJ  := $(patsubst %.c,$(B)/cliobj/%.o,$(CLI_SRC) $(COMMON_SRC))
SAMPLES  := $(patsubst samples/%.c,$(B)/samples/%,$(SAMPLE_SRC))
UNITS    := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
ITESTS   := $(patsubst tests/integration/prog/%.c,$(B)/tests/prog/%,$(ITEST_SRC)) \
	$(patsubst tests/integration/prog/%.cc,$(B)/tests/prog/%,$(ITEST_CXX))
BENCHES  := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC)) \
	$(patsubst bench/%.c,$(B)/bench/%.so,$(BENCH_SO))

all: $(B)/libgilwatch.so $(B)/gilwatch $(SAMPLES) $(ITESTS) $(BENCHES)

$(B)/libgilwatch.so: $(SHIM_OBJ) src/shim/shared.ld
	$(CC) $(SHIM_CFLAGS) -shared -o $@ $(SHIM_OBJ) $(SHIM_LIBS) -Wl,-z,defs \
	    -Wl,-T,src/shim/shared.ld

$(B)/libgwcore.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/gilwatch: $(CLI_OBJ)
	$(CC) -o $@ $^ $(CLI_LIBS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/cliobj/tui/%.o: tui/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TUI_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/cliobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -MMD -MP -c -o $@ $<

# Samples and test programs: debug info for file:line in reports.
$(B)/samples/%: samples/%.c samples/sample.h
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(WARN) -O0 -g -o $@ $< -pthread

$(B)/tests/prog/%: tests/integration/prog/%.c samples/sample.h \
		$(wildcard include/gilwatch/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(WARN) -O0 -g -Iinclude -Isamples -o $@ $< -pthread -ldl

# C++: for demangled names in reports.
$(B)/tests/prog/%: tests/integration/prog/%.cc samples/sample.h
	@mkdir -p $(dir $@)
	$(CXX) -D_GNU_SOURCE $(WARN) -O0 -g -Isamples -o $@ $< -pthread

$(B)/bench/%.so: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(WARN) -O2 -shared -fPIC -o $@ $< -pthread -ldl

$(B)/bench/%: bench/%.c bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(WARN) -O2 -g -Ibench -o $@ $< -pthread

$(B)/tests/%: tests/unit/%.c $(B)/libgwcore.a
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -Isrc/cli -Itui -o $@ $< $(filter %.o,$^) \
		$(B)/libgwcore.a -lcriterion $(SHIM_LIBS) $(DW_LIBS)

# The lazy libraries' stand-ins, linked without the libraries.
$(B)/tests/test-lazylib: tests/unit/test-lazylib.c $(B)/obj/src/shim/lazylib.o \
		$(B)/libgwcore.a
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -o $@ $^ -lcriterion $(SHIM_LIBS)

# Unit tests of the dashboard's pure parts link the file they test.
$(B)/tests/test-fmt-py: $(B)/cliobj/tui/fmt-py.o
$(B)/tests/test-cli-args: $(B)/cliobj/src/cli/args.o

# Build, then show gilwatch on two samples: a deadlock caught as it
# happens, and a lock-order inversion caught before it can happen.
demo:
	@scripts/deps
	@$(MAKE) --no-print-directory all
	@echo; echo '$$ gilwatch run --on-deadlock=exit -- build/samples/abba'
	@$(B)/gilwatch run --on-deadlock=exit -- $(B)/samples/abba 2>&1 | \
		grep -v '^gw-sample' || true
	@echo; echo '$$ gilwatch run -- build/samples/order_inversion'
	@$(B)/gilwatch run -- $(B)/samples/order_inversion 2>&1 | \
		grep -v '^gw-sample' || true

# The packages first, then the build and the tests: on a fresh machine
# scripts/deps installs what is missing (root) or names it and stops,
# before a compiler error could.
check:
	@scripts/deps --test
	@$(MAKE) --no-print-directory run-checks

run-checks: all $(UNITS)
	@tests/run-checks $(B)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/gilwatch \
		$(DESTDIR)$(PREFIX)/include/gilwatch \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 755 $(B)/gilwatch $(DESTDIR)$(PREFIX)/bin/gilwatch
	install -m 755 $(B)/libgilwatch.so $(DESTDIR)$(PREFIX)/lib/gilwatch/
	install -m 644 include/gilwatch/*.h $(DESTDIR)$(PREFIX)/include/gilwatch/
	install -m 644 man/gilwatch.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/libgilwatch.3 $(DESTDIR)$(PREFIX)/share/man/man3/

bench:
	@scripts/deps --bench
	@$(MAKE) --no-print-directory all
	bench/run $(B)

clean:
	rm -rf $(B)

.PHONY: all check run-checks install clean bench demo
-include $(shell find $(B) -name '*.d' 2>/dev/null)

# What the readers take from src/common, for the test programs below
# that link a few readers alone.
READER_COMMON := src/common/grow.c src/common/procstat.c

# The CPython readers (src/reader/py-*.c) alone in a preloadable library,
# for tests/integration/test_pyframes.py.
PY_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard src/reader/py-*.c) \
	src/reader/mem.c src/reader/maps.c $(READER_COMMON))

$(B)/tests/pyprobe.so: tests/integration/pyprobe/pyprobe.c $(PY_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -shared -o $@ $^ -ldw -lelf -ldl -Wl,-z,defs

all: $(B)/tests/pyprobe.so

# A library to preload after the shim, for tests/integration/prog/dlsym_locks.c.
# No sibling calls: dlsym(RTLD_NEXT) reached by a jump is the caller's.
$(B)/tests/next_probe.so: tests/integration/preload/next_probe.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(WARN) -O2 -fno-optimize-sibling-calls -shared -fPIC \
		-o $@ $< -ldl

all: $(B)/tests/next_probe.so

# The readers driven from outside: what they find in another process,
# as JSON, for tests/integration/test_pyattach.py.
$(B)/tests/pyattach: tests/integration/pyattach/pyattach.c \
		$(patsubst %.c,$(B)/cliobj/%.o,$(wildcard src/reader/py-*.c) \
		src/reader/mem.c src/reader/maps.c $(READER_COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -o $@ $^ -lelf -pthread

all: $(B)/tests/pyattach

# A core file read through the readers alone, for
# tests/integration/test_core.py.
CORE_PROBE_OBJ := $(patsubst %.c,$(B)/obj/%.o,src/reader/core.c \
	src/reader/mem.c src/reader/symname.c src/reader/lines.c \
	src/reader/symtab.c $(READER_COMMON))

$(B)/tests/coreprobe: tests/integration/coreprobe/coreprobe.c $(CORE_PROBE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -o $@ $^ -ldw -lelf -lz -ldl -pthread

all: $(B)/tests/coreprobe
