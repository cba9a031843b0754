# sockd: see README.md.  "make run" and "make check" install missing build
# dependencies first (apt-get, through sudo when not root).

VERSION		?= 0.1.0
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
SYSCONFDIR	?= $(PREFIX)/etc
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig
HANDLER_DIR	?= $(LIBDIR)/sockd
CONF_FILE	?= $(SYSCONFDIR)/sockd.conf

CC		?= cc
CFLAGS		?= -O2 -g
PKG_CONFIG	?= pkg-config
SHELL		:= /bin/bash

B		:= build
WARN		:= -std=c11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
		   -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
		   -Wvla -Wno-unused-parameter
DEFS		:= -D_GNU_SOURCE -DSOCKD_VERSION='"$(VERSION)"' \
		   -DSOCKD_CONF_FILE='"$(CONF_FILE)"' \
		   -DSOCKD_HANDLER_DIR='"$(HANDLER_DIR)"'
DEPS_CFLAGS	 = $(shell $(PKG_CONFIG) --cflags libuv libconfig hiredis \
		   2>/dev/null)
DEPS_LIBS	 = $(shell $(PKG_CONFIG) --libs libuv libconfig hiredis 2>/dev/null)
TEST_CFLAGS	 = $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
TEST_LIBS	 = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
ifeq ($(SANITIZE),1)
SAN		:= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
endif
ifeq ($(SANITIZE),thread)
SAN		:= -fsanitize=thread -fno-omit-frame-pointer
endif
ALL_CFLAGS	 = $(WARN) $(DEFS) -Iinclude -iquote daemon $(DEPS_CFLAGS) $(SAN) \
		   -MMD -MP $(CPPFLAGS) $(CFLAGS)
PIC		:= -fPIC

# Every file of handlers/ is linked in; daemon/builtin.c lists the handlers.
DAEMON_SRCS	:= $(filter-out daemon/main.c,$(wildcard daemon/*.c))
HANDLER_SRCS	:= $(wildcard handlers/*.c)
# The units of handlers/ that are no handler, and which of them each handler
# is made of: they go into its unit test and its plugin with it.
HANDLER_PARTS	:= tz text ring peers
HANDLER_UNITS_daytime := tz
HANDLER_UNITS_chat := text ring peers
HANDLER_NAMES	:= $(filter-out $(HANDLER_PARTS),$(HANDLER_SRCS:handlers/%.c=%))
HANDLER_PLUGINS	:= $(HANDLER_NAMES:%=$(B)/handlers/%.so)
LIB_OBJS	:= $(DAEMON_SRCS:%.c=$(B)/%.o) $(HANDLER_SRCS:%.c=$(B)/%.o)
SOCKD		:= $(B)/sockd

UNIT_HTESTS	:= $(wildcard tests/unit/handler_*_test.c)
UNIT_PTESTS	:= $(HANDLER_PARTS:%=tests/unit/%_test.c)
UNIT_DTESTS	:= $(filter-out $(UNIT_HTESTS) $(UNIT_PTESTS),\
		   $(wildcard tests/unit/*_test.c))
E2E_TESTS	:= $(wildcard tests/e2e/*_test.c)
TEST_PLUGINS	:= $(patsubst tests/plugins/%.c,$(B)/plugins/%.so,\
		   $(wildcard tests/plugins/*.c))
# Programs the e2e suites start beside sockd (exec services).
TEST_PROGS	:= $(patsubst tests/progs/%.c,$(B)/tests/progs/%,\
		   $(wildcard tests/progs/*.c))
UNIT_BINS	:= $(UNIT_HTESTS:%.c=$(B)/%) $(UNIT_PTESTS:%.c=$(B)/%) \
		   $(UNIT_DTESTS:%.c=$(B)/%)
E2E_BINS	:= $(E2E_TESTS:%.c=$(B)/%)

all: $(SOCKD)

# V=1 shows the whole compile lines.
Q		:= $(if $(V),,@)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(PIC) -c $< -o $@

# Handlers see the plugin ABI and their own directory, nothing of the
# daemon: a handler that included a daemon header would not build.
$(B)/handlers/%.o: ALL_CFLAGS = $(WARN) $(DEFS) -Iinclude -iquote handlers \
		   $(SAN) -MMD -MP $(CPPFLAGS) $(CFLAGS)

$(B)/libsockd.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(SOCKD): $(B)/daemon/main.o $(B)/libsockd.a
	$(CC) $(SAN) -rdynamic $(LDFLAGS) -o $@ $(B)/daemon/main.o \
	    -Wl,--whole-archive $(B)/libsockd.a -Wl,--no-whole-archive \
	    $(DEPS_LIBS) -ldl -lpthread

# Test plugins: a .so each, loaded through handler_dir by the e2e suite.
$(B)/plugins/%.so: tests/plugins/%.c include/sockd/handler.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -Iinclude $(PIC) -shared $(SAN) $(CPPFLAGS) $(CFLAGS) \
	    $(LDFLAGS) -o $@ $<

# Any handler as a plugin, with the units it is made of, built the way a
# plugin author would (without the Makefile's definitions).  A symbol left
# undefined but the ABI's (sockd_*) and the C library's (versioned) is a
# unit missing from its HANDLER_UNITS_ list, which dlopen() would refuse.
# Sanitizer runtimes take the C library's names unversioned: no check then.
$(B)/handlers/%.so: handlers/%.c $(wildcard handlers/*.h) \
    include/sockd/handler.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -Iinclude $(PIC) -shared $(SAN) $(CPPFLAGS) $(CFLAGS) \
	    $(LDFLAGS) -o $@ $(filter %.c,$^)
	@[ -n "$(SAN)" ] || { u=$$(nm -D --undefined-only $@ | \
	    awk '$$1 == "U" && $$2 !~ /@|^sockd_|^__/ { print $$2 }'); \
	    [ -z "$$u" ] || { echo "$@: undefined:" $$u; rm -f $@; exit 1; }; }

# Handler unit tests: the handler and its units alone, against a recording
# fake of the ABI.
$(B)/tests/unit/handler_%_test: $(B)/tests/unit/handler_%_test.o \
    $(B)/handlers/%.o $(B)/tests/unit/fake_conn.o
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(foreach h,$(HANDLER_NAMES),$(eval $(B)/tests/unit/handler_$(h)_test: \
    $(HANDLER_UNITS_$(h):%=$(B)/handlers/%.o))$(eval $(B)/handlers/$(h).so: \
    $(HANDLER_UNITS_$(h):%=handlers/%.c)))

# Tests of the units handlers are made of: the unit alone (peers borrows
# the fake's address parser).
$(UNIT_PTESTS:%.c=$(B)/%): $(B)/tests/unit/%_test: $(B)/tests/unit/%_test.o \
    $(B)/handlers/%.o
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)
$(B)/tests/unit/peers_test: $(B)/tests/unit/fake_conn.o

# The unit tests build every handler as a plugin too.
handler-plugins: $(HANDLER_PLUGINS)
unit: handler-plugins
.PHONY: handler-plugins

# Daemon unit tests: the daemon's objects, without main().
$(B)/tests/unit/%_test: $(B)/tests/unit/%_test.o $(B)/libsockd.a
	$(CC) $(SAN) -rdynamic $(LDFLAGS) -o $@ $< \
	    -Wl,--whole-archive $(B)/libsockd.a -Wl,--no-whole-archive \
	    $(DEPS_LIBS) $(TEST_LIBS) -ldl -lpthread

$(B)/tests/progs/%: tests/progs/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE $(SAN) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(B)/tests/e2e/%_test: $(B)/tests/e2e/%_test.o $(B)/tests/e2e/harness.o
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(B)/tests/%.o: ALL_CFLAGS += $(TEST_CFLAGS) -Itests/unit -Itests/e2e

# Run from a shell loop so that every suite runs and the exit status says
# whether any failed.
unit: deps $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; \
	    $$t || fail=1; done; exit $$fail

e2e: deps $(SOCKD) $(TEST_PLUGINS) $(TEST_PROGS) $(E2E_BINS)
	@sh .ci/install-deps e2e
	@fail=0; for t in $(E2E_BINS); do echo "== $$t"; \
	    SOCKD=$(SOCKD) SOCKD_PLUGINS=$(B)/plugins timeout 300 $$t \
	    || fail=1; done; exit $$fail

# The metrics suite checks its scrapes with promtool (package prometheus),
# and says so when it cannot (a package build without it).
check: deps
	@sh .ci/install-deps prometheus || echo "promtool not installed: the" \
	    "metrics suite skips its format check"
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) man-lint

# The suite under valgrind memcheck: every sockd the e2e tests start.
check-valgrind:
	@sh .ci/install-deps valgrind
	$(MAKE) all $(TEST_PLUGINS) $(TEST_PROGS) $(E2E_BINS)
	@fail=0; for t in $(E2E_BINS); do echo "== $$t (valgrind)"; \
	    SOCKD=$(SOCKD) SOCKD_PLUGINS=$(B)/plugins SOCKD_VALGRIND=1 \
	    VALGRIND_OPTS=--suppressions=$(CURDIR)/tests/valgrind.supp \
	    timeout 900 $$t || fail=1; done; exit $$fail

# A real Prometheus server scrapes sockd on loopback (tests/prometheus/).
check-prometheus:
	@sh .ci/install-deps prometheus
	$(MAKE) all
	SOCKD=$(SOCKD) timeout 150 tests/prometheus/check.sh

MANPAGES	:= $(wildcard man/*.[0-9])
man-lint:
	@if [ -n "$(MANPAGES)" ]; then \
	    mandoc -T lint -W warning $(MANPAGES) || exit 1; \
	    for p in $(MANPAGES); do \
	        err=$$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
	            man --warnings -E UTF-8 -l -Tutf8 -Z $$p 2>&1 >/dev/null); \
	        if [ -n "$$err" ]; then echo "$$p: $$err"; exit 1; fi; \
	    done; echo "man pages: lint clean"; fi

# Without root, ports below 1024 get 10000 added (-p); as root, the daemon
# drops to "nobody" since the packaged _sockd user may not exist here.
RUN_ARGS	?= $(if $(filter 0,$(shell id -u)),-u nobody,-p 10000)
run: deps $(SOCKD)
	$(SOCKD) -f -c conf/sockd.conf $(RUN_ARGS)

deps:
	@sh .ci/install-deps

install: $(SOCKD)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR) \
	    $(DESTDIR)$(HANDLER_DIR) $(DESTDIR)$(INCLUDEDIR)/sockd \
	    $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0755 $(SOCKD) $(DESTDIR)$(SBINDIR)/sockd
	install -m 0644 conf/sockd.conf $(DESTDIR)$(CONF_FILE)
	install -d $(DESTDIR)$(SYSCONFDIR)/sockd.d
	install -m 0644 conf/sockd.d.README $(DESTDIR)$(SYSCONFDIR)/sockd.d/README
	install -m 0644 include/sockd/handler.h $(DESTDIR)$(INCLUDEDIR)/sockd/
	for p in $(MANPAGES); do s=$${p##*.}; \
	    install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/; done
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@HANDLER_DIR@|$(HANDLER_DIR)|; s|@VERSION@|$(VERSION)|' \
	    packaging/sockd.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/sockd.pc

# libFuzzer harnesses (clang): FUZZ_SECONDS each, on a copy of the seeds.
FUZZ_SECONDS	?= 60
FUZZERS		:= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz:
	@sh .ci/install-deps fuzz
	@mkdir -p $(B)/fuzz
	@for f in $(FUZZERS); do \
	    src=$$(sed -n 's|^/\* fuzz-sources: \(.*\) \*/$$|\1|p' \
	        tests/fuzz/fuzz_$$f.c); \
	    clang -g -O1 -fsanitize=fuzzer,address,undefined $(DEFS) \
	        -Iinclude -iquote daemon -iquote handlers -Itests/unit \
	        $(DEPS_CFLAGS) tests/fuzz/fuzz_$$f.c $$src \
	        -o $(B)/fuzz/$$f $(DEPS_LIBS) -ldl -lpthread || exit 1; \
	    rm -rf $(B)/fuzz/corpus-$$f; \
	    cp -r tests/fuzz/corpus/$$f $(B)/fuzz/corpus-$$f; \
	    echo "== fuzz $$f ($(FUZZ_SECONDS)s)"; \
	    LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp \
	    $(B)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        $(B)/fuzz/corpus-$$f 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|crash-' ; \
	    [ $${PIPESTATUS[0]} -eq 0 ] || exit 1; \
	done

clean:
	rm -rf $(B) build-asan

# Keep test objects between runs.
.SECONDARY:

.PHONY: all unit e2e check check-valgrind check-prometheus man-lint run deps install clean fuzz

-include bench/bench.mk
-include packaging/packaging.mk

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)
