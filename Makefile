# sealift: offline migration bundle compiler for PostgreSQL.
#
#   make            build bin/sealift and bin/sealift-apply (static)
#   make check      install missing Debian packages, build, run every test suite
#   make demo       install missing packages, build, run the end-to-end example
#   make asan       run the suites under AddressSanitizer + UBSan
#   make install    install the binaries, man pages and bash completion (PREFIX, DESTDIR)
#   make man        the man pages, generated from the binaries' --help into $(BUILD)/man
#   make fmt-check  clang-format check; make fmt rewrites; make lint runs cppcheck

VERSION  := 0.1.0
PREFIX   ?= /usr/local
MANDIR   ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
BUILD    ?= build/release
BIN      ?= bin
SANITIZE ?=
# Parallel jobs of the builds make check does (the cores of the machine, as the test runner).
JOBS     ?= $(shell nproc 2>/dev/null || echo 1)
# DYNAMIC=1 links the applier dynamically (sanitizers and valgrind cannot work in a static
# binary); SANITIZE=1 implies it. "make valgrind-build" makes such an applier at -O0.
DYNAMIC  ?= $(SANITIZE)
CC       ?= cc

LIBDIR   := $(shell pg_config --libdir 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)
PG_PKGLIBDIR := $(shell pg_config --pkglibdir 2>/dev/null)

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
            -Wvla -Werror
CSTD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
ifeq ($(SANITIZE),1)
OPT      := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDOPT    := -fsanitize=address,undefined
else
OPT      := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
            -fcf-protection
LDOPT    := -Wl,-z,relro,-z,now
endif
CPPFLAGS += -Iinclude -I$(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql) -DSEALIFT_VERSION='"$(VERSION)"' -MMD -MP
CFLAGS   += $(CSTD) $(WARNINGS) $(OPT)

LIB_SRCS      := $(sort $(wildcard lib/*.c))
COMPILER_SRCS := $(sort $(wildcard compiler/*.c))
APPLIER_SRCS  := $(sort $(wildcard applier/*.c))
# The GSSAPI/LDAP stand-ins are for the static link only; the dynamic builds link libpq.so.
ifeq ($(DYNAMIC),1)
APPLIER_SRCS  := $(filter-out applier/static_shim.c,$(APPLIER_SRCS))
endif
UNIT_SRCS     := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJS      := $(LIB_SRCS:%.c=$(BUILD)/%.o)
COMPILER_OBJS := $(COMPILER_SRCS:%.c=$(BUILD)/%.o)
APPLIER_OBJS  := $(APPLIER_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS     := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
LIBSEALIFT    := $(BUILD)/libsealift.a

COMPILER_LIBS := -lpg_query -larchive -lsodium -lcrypto -lzstd -lz
# The applier is one fully static binary: libpq (with OpenSSL for TLS), libsodium, zstd and
# zlib (it reads bundles with lib/bundle.c's own ustar reader: no libarchive). Debian's libpq.a references GSSAPI and LDAP, which Debian ships only as shared
# libraries; applier/static_shim.c stands in for them (see README "The static applier").
APPLIER_STATIC_LIBS := $(LIBDIR)/libpq.a $(PG_PKGLIBDIR)/libpgcommon.a \
                       $(PG_PKGLIBDIR)/libpgport.a $(LIBDIR)/libssl.a $(LIBDIR)/libcrypto.a \
                       $(LIBDIR)/libsodium.a $(LIBDIR)/libzstd.a \
                       $(LIBDIR)/libz.a -lpthread -ldl
ifeq ($(DYNAMIC),1)
# Sanitizers cannot run in static binaries: link the applier dynamically in this build.
APPLIER_LINK := -lpq -lsodium -lcrypto -lzstd -lz
else
APPLIER_LINK := -static $(APPLIER_STATIC_LIBS)
endif

.PHONY: all check unit-tests demo asan install man fmt fmt-check lint clean deps golden bench fuzz \
        fuzz-build valgrind-build ansible-collection demo-fleet

all: $(BIN)/sealift $(BIN)/sealift-apply

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Static applier objects are built without PIE so the result is "statically linked".
$(BUILD)/applier/%.o: applier/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(if $(filter 1,$(DYNAMIC)),,-fno-pie) -c $< -o $@

# PostgreSQL's server headers (the parse nodes libpg_query's raw parse returns) are read by
# compiler/pgnodes.c alone; as system headers, so that their own warnings are not ours.
PG_SERVER_INC := $(shell pg_config --includedir-server 2>/dev/null || echo /usr/include/postgresql/15/server)
$(BUILD)/compiler/pgnodes.o: CPPFLAGS += -isystem $(PG_SERVER_INC)

$(LIBSEALIFT): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# $(LIB_OBJS) too: their dependency files carry the headers, so a header change rebuilds this.
$(BUILD)/nopie/libsealift.a: $(LIB_SRCS) $(LIB_OBJS)
	@mkdir -p $(BUILD)/nopie/lib
	@set -e; for s in $(LIB_SRCS); do \
	  $(CC) $(CPPFLAGS) $(CFLAGS) -fno-pie -c $$s -o $(BUILD)/nopie/$${s%.c}.o; done
	@rm -f $@
	ar rcs $@ $(LIB_SRCS:%.c=$(BUILD)/nopie/%.o)

$(BIN)/sealift: $(COMPILER_OBJS) $(LIBSEALIFT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -pie $(LDOPT) -o $@ $^ $(COMPILER_LIBS)

ifeq ($(DYNAMIC),1)
$(BIN)/sealift-apply: $(APPLIER_OBJS) $(LIBSEALIFT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDOPT) -o $@ $^ $(APPLIER_LINK)
else
$(BIN)/sealift-apply: $(APPLIER_OBJS) $(BUILD)/nopie/libsealift.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -no-pie $(LDOPT) -o $@ $^ $(APPLIER_LINK) 2> $(BUILD)/applier-link.log || \
	  { cat $(BUILD)/applier-link.log; exit 1; }
endif

$(BUILD)/tests/%: tests/unit/%.c $(LIBSEALIFT)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBSEALIFT) -lcmocka -larchive -lsodium -lcrypto -lzstd -lz

# Unit tests of compiler modules (tests/unit/test_compiler_*.c) link the compiler's objects.
COMPILER_LIB_OBJS := $(filter-out $(BUILD)/compiler/main.o,$(COMPILER_OBJS))
$(BUILD)/tests/test_compiler_%: tests/unit/test_compiler_%.c $(COMPILER_LIB_OBJS) $(LIBSEALIFT)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Icompiler $(CFLAGS) -o $@ $< $(COMPILER_LIB_OBJS) $(LIBSEALIFT) -lcmocka \
	  $(COMPILER_LIBS)

# Unit tests of applier modules (tests/unit/test_applier_*.c) link the applier's objects
# (without main and the static-link stand-ins) against the shared libpq. The static build's
# applier objects are not position-independent, so those tests link without PIE.
APPLIER_LIB_OBJS := $(filter-out $(BUILD)/applier/main.o $(BUILD)/applier/static_shim.o,\
                      $(APPLIER_OBJS))
$(BUILD)/tests/test_applier_%: tests/unit/test_applier_%.c $(APPLIER_LIB_OBJS) $(LIBSEALIFT)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Iapplier $(CFLAGS) $(if $(filter 1,$(DYNAMIC)),,-fno-pie -no-pie) -o $@ \
	  $< $(APPLIER_LIB_OBJS) $(LIBSEALIFT) -lcmocka -lpq -larchive -lsodium -lcrypto -lzstd -lz

unit-tests: $(UNIT_BINS)

deps:
	@scripts/install-deps

# The README's two commands install what they need first, then build in a second make so
# that the build sees the freshly installed headers.
# It also builds the applier valgrind checks (valgrind-build) and the sanitizer build, whose
# unit tests and a representative part of the CLI suites run too (tests/run-all); "make asan"
# runs every suite under the sanitizers.
check:
	@scripts/install-deps
	@$(MAKE) --no-print-directory -j$(JOBS) all unit-tests fuzz-build valgrind-build
	@$(MAKE) --no-print-directory -j$(JOBS) SANITIZE=1 BUILD=$(ASAN_BUILD) BIN=$(ASAN_BUILD)/bin \
	  all unit-tests
	@SEALIFT_BUILD=$(BUILD) SEALIFT_BIN=$(abspath $(BIN)) SEALIFT_FUZZ_BUILD=$(FUZZ_BUILD) \
	  SEALIFT_VALGRIND_BIN=$(abspath $(VALGRIND_BUILD)/bin) SEALIFT_ASAN_BUILD=$(ASAN_BUILD) \
	  tests/run-all

demo:
	@scripts/install-deps
	@$(MAKE) --no-print-directory all
	@SEALIFT_BIN=$(abspath $(BIN)) scripts/demo

ASAN_BUILD ?= build/asan
asan:
	@scripts/install-deps
	@$(MAKE) --no-print-directory SANITIZE=1 BUILD=$(ASAN_BUILD) BIN=$(ASAN_BUILD)/bin all unit-tests
	@SEALIFT_BUILD=$(ASAN_BUILD) SEALIFT_BIN=$(abspath $(ASAN_BUILD)/bin) SEALIFT_ASAN=1 tests/run-all

# An applier valgrind can check: linked dynamically, -O0, no sanitizers (tests/cli/valgrind.bats
# runs it when SEALIFT_VALGRIND_BIN names its directory; make check builds it).
VALGRIND_BUILD ?= build/valgrind
valgrind-build:
	@$(MAKE) --no-print-directory DYNAMIC=1 OPT='-O0 -g' BUILD=$(VALGRIND_BUILD) \
	  BIN=$(VALGRIND_BUILD)/bin $(VALGRIND_BUILD)/bin/sealift-apply

# The man pages are the --help texts in roff (scripts/gen-man): one source for both.
man: all
	@rm -rf $(BUILD)/man
	scripts/gen-man $(BIN) $(BUILD)/man $(VERSION)

install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(BIN)/sealift $(BIN)/sealift-apply $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(BUILD)/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 contrib/completion/sealift.bash $(DESTDIR)$(BASHCOMPDIR)/sealift
	install -m 0644 contrib/completion/sealift.bash $(DESTDIR)$(BASHCOMPDIR)/sealift-apply

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]')

fmt:
	clang-format -i $(FORMAT_FILES)

fmt-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 --inline-suppr -Iinclude --suppress=missingIncludeSystem \
	  lib compiler applier

# ---- Ansible (contrib/ansible) ----
# The sealift.migrate collection tarball, with the static applier as its binary modules.
ansible-collection: all
	@SEALIFT_BIN=$(abspath $(BIN)) scripts/ansible-collection build build/ansible

# The three-host rollout of tests/cli/ansible_fleet.bats, end to end on this machine.
demo-fleet: all
	@SEALIFT_BIN=$(abspath $(BIN)) scripts/demo-fleet

# Rebuild the committed golden bundle from its committed inputs and test key.
golden: all
	@SEALIFT_BIN=$(abspath $(BIN)) bundles/golden/make-golden

# Benchmark against psql and the peers (tests/bench/run); QUICK=1 for a small version. Writes
# BENCHMARKS.md (QUICK: build/bench/BENCHMARKS-quick.md). Never part of make check.
bench:
	@scripts/install-deps
	@$(MAKE) --no-print-directory all
	@SEALIFT_BIN=$(abspath $(BIN)) QUICK=$(QUICK) tests/bench/run

# ---- fuzzing (libFuzzer, clang-14, ASan + UBSan) ----
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build/fuzz
FUZZ_TARGETS := manifest keys bundle sql formats
# A hostile secret key may ask for up to the scrypt cap; keep it small while fuzzing.
FUZZ_CFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 \
                -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
                -DSECKEY_CAP_MEMLIMIT=16777216ULL -DSECKEY_CAP_OPSLIMIT=524288ULL \
                -Iinclude -Icompiler -I$(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql) \
                -isystem $(PG_SERVER_INC) -DSEALIFT_VERSION='"$(VERSION)"'
FUZZ_SRCS    := $(LIB_SRCS) $(filter-out compiler/main.c,$(COMPILER_SRCS))
FUZZ_OBJS    := $(FUZZ_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(COMPILER_LIBS)

fuzz-build: $(FUZZ_BINS)

# make fuzz FUZZ_SECONDS=N: each target for N seconds, from the committed seeds; new findings
# go to build/fuzz/findings/TARGET. Crashes become regression inputs in tests/fuzz/regressions.
fuzz: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf build bin

-include $(LIB_OBJS:.o=.d) $(COMPILER_OBJS:.o=.d) $(APPLIER_OBJS:.o=.d) $(UNIT_BINS:=.d)
