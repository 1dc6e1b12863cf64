# Capsule: plain GNU make. Targets: all check asan bench demo fuzz clean.
# B is the build directory; `make asan` builds into build-asan with sanitizers.

B        ?= build
CC       ?= gcc
ifeq ($(origin CC),default)
CC       := gcc
endif
VERSION  := 0.1.0
SAN      ?=
# OPT is the optimisation/debug level; CFLAGS given on the command line are added, never replace
# the warnings and defines below.
OPT      ?= -O2 -g
override CFLAGS += $(OPT) -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -DCAPSULE_VERSION='"$(VERSION)"' \
            -fno-strict-aliasing -pthread -I/usr/include/libnl3 $(SAN)
LDFLAGS  += -pthread $(SAN)
LDLIBS   := -lhttp_parser -ljansson -lseccomp -lcap -luring -larchive -lnettle -lacl -lnl-route-3 -lnl-3 -lssl -lcrypto -lz -llzma -llz4 -lzstd -lbz2

SRCS     := $(shell find src -name '*.c' | sort)
LIB_SRCS := $(filter-out src/cli/main.c,$(SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/unit/%)

.PHONY: all check check-fast asan bench demo fuzz clean deps guests unit test-kernel test-kernels man install uninstall
all: $(B)/capsule $(B)/capsule-runtime guests unit man $(B)/completion/capsule $(B)/tests/capsule-hooks

# Every compile waits for the Debian packages (order-only: the stamp's age never rebuilds an object,
# and once it exists a no-op make does not run scripts/deps at all).
DEPS_OK  := $(B)/.deps-ok
$(DEPS_OK): scripts/deps
	@scripts/deps
	@mkdir -p $(dir $@) && touch $@

$(B)/obj/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libcapsule.a: $(LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

# capsule is linked statically (but for sanitizer builds, which need the dynamic runtime): no
# dynamic loading or relocation at start-up saves ~0.7 CPU-ms per VM start here, and the binary
# can be copied into a guest or a container as one file. --gc-sections drops the parts of
# libarchive.a we never call (its format table names the xar writer, which needs libxml2 and ICU:
# 37 MB instead of 3.4 MB).
STATIC   ?= $(if $(SAN),,-static -Wl,--gc-sections)
$(B)/capsule: $(B)/obj/src/cli/main.o $(B)/libcapsule.a
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^ $(LDLIBS)

# The same binary with the test hooks compiled in (CAPSULE_TEST_HOOKS: e.g. a thread that makes a
# forbidden syscall on request), for tests/vm/test_seccomp.sh only; build/capsule never has them.
HOOK_SRCS := src/vmm/sandbox/seccomp.c
HOOK_OBJS := $(HOOK_SRCS:%.c=$(B)/obj-hooks/%.o)
$(B)/obj-hooks/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (test hooks)"
	@$(CC) $(CFLAGS) -DCAPSULE_TEST_HOOKS -MMD -MP -c -o $@ $<

$(B)/tests/capsule-hooks: $(B)/obj/src/cli/main.o $(HOOK_OBJS) $(B)/libcapsule.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^ $(LDLIBS)

$(B)/capsule-runtime: $(B)/capsule
	ln -sf capsule $@

# The man pages and the bash completion, generated from the command table (src/cli/table.c) by the
# binary itself: capsule.1 and capsule-<noun>.1.
$(B)/man/.stamp: $(B)/capsule
	@rm -rf $(B)/man && mkdir -p $(B)/man
	@echo "  MAN     $(B)/man"
	@$(B)/capsule help --man $(B)/man
	@touch $@
man: $(B)/man/.stamp

$(B)/completion/capsule: $(B)/capsule
	@mkdir -p $(dir $@)
	@$(B)/capsule completion bash >$@.tmp && mv $@.tmp $@

# make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=/etc]: the binary, the capsule-runtime
# link, the man pages, the bash completion (for both names) and a containers.conf drop-in that
# lets podman take --runtime capsule (SYSCONFDIR is /etc whatever the PREFIX: podman looks there).
# uninstall removes those files (directories stay).
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR     := $(PREFIX)/bin
MANDIR     := $(PREFIX)/share/man/man1
COMPDIR    := $(PREFIX)/share/bash-completion/completions
PODMANDIR  := $(SYSCONFDIR)/containers/containers.conf.d
install: $(B)/capsule man $(B)/completion/capsule
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(COMPDIR) $(DESTDIR)$(PODMANDIR)
	install -m 0755 $(B)/capsule $(DESTDIR)$(BINDIR)/capsule
	ln -sf capsule $(DESTDIR)$(BINDIR)/capsule-runtime
	install -m 0644 $(B)/man/*.1 $(DESTDIR)$(MANDIR)/
	install -m 0644 $(B)/completion/capsule $(DESTDIR)$(COMPDIR)/capsule
	ln -sf capsule $(DESTDIR)$(COMPDIR)/capsule-runtime
	printf '%s\n' '# podman --runtime capsule (or capsule-runtime) finds the runtime by name' '[engine.runtimes]' \
		'capsule = ["$(BINDIR)/capsule-runtime"]' 'capsule-runtime = ["$(BINDIR)/capsule-runtime"]' \
		>$(DESTDIR)$(PODMANDIR)/50-capsule.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/capsule $(DESTDIR)$(BINDIR)/capsule-runtime \
		$(DESTDIR)$(MANDIR)/capsule.1 $(DESTDIR)$(MANDIR)/capsule-*.1 \
		$(DESTDIR)$(COMPDIR)/capsule $(DESTDIR)$(COMPDIR)/capsule-runtime \
		$(DESTDIR)$(PODMANDIR)/50-capsule.conf

$(B)/tests/unit/%: tests/unit/%.c $(B)/libcapsule.a tests/unit/unit.h | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(B)/libcapsule.a $(LDFLAGS) $(LDLIBS)

unit: $(UNIT_BINS)

# Test guests (freestanding, built by guest/guest.mk into $(B)/guest/).
include guest/guest.mk

# `make deps` re-checks the packages every time (a removed one is installed again); it runs after
# the stamp, so that `make -j2 check` never runs two apt-gets at once.
deps: | $(DEPS_OK)
	@scripts/deps

# The kernels the tests boot, fetched or built before any suite runs (both idempotent and quick
# once done). A host that cannot get them (no Debian mirror) runs the tests that need them as
# SKIP with the reason; a micro-VM kernel that fails to build fails here.
#   test-kernel   Debian's cloud kernel in build/linux (scripts/fetch-kernel): the unit tests'
#                 real-kernel checks and the nested suites
#   test-kernels  that, and the micro-VM kernel (scripts/kernel/cached: built once per machine and
#                 source version, ~5 min, kept in /var/cache/capsule/kernel/<key>/)
test-kernel: deps
	@timeout -k 5 300 scripts/fetch-kernel || echo "make: scripts/fetch-kernel failed: the real-kernel tests will SKIP" >&2

test-kernels: test-kernel
	@scripts/kernel/cached >/dev/null || { rc=$$?; [ $$rc -eq 3 ] && echo "make: no micro-VM kernel: its tests will SKIP" >&2; [ $$rc -eq 3 ]; }

check: deps all test-kernels
	@B=$(B) tests/run

# The fast suites only (no nested-QEMU Linux boots).
check-fast: deps all test-kernel
	@B=$(B) tests/run --fast

# ASan + UBSan build of everything, then the fast suites against it.
asan: deps test-kernel
	$(MAKE) B=build-asan CC=clang SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		OPT="-O1 -g" all
	@B=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run --fast

bench: deps all
	@B=$(B) bench/run

demo: deps all
	@B=$(B) scripts/demo

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
fuzz: deps
	@B=$(B) tests/fuzz/run $(FUZZ_SRCS)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B)/obj $(B)/obj-hooks -name '*.d' 2>/dev/null)
