# bench/bench.mk: the benchmark suite (issue 5), included by the top
# Makefile or run alone with "make -f bench/bench.mk bench-build".
#   make bench        build everything, run bench/run.sh, write RESULTS.md
#   make bench-build  build $(B)/bench/loadgen and $(B)/bench/refserver
# BENCH_QUICK=1 make bench: a one-minute smoke run.

B		?= build
BENCH_GOAL	:= $(.DEFAULT_GOAL)
BENCH_CC	?= $(or $(CC),cc)
BENCH_PKGCONFIG	?= $(or $(PKG_CONFIG),pkg-config)
BENCH_CFLAGS	:= -std=c11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE \
		   $(shell $(BENCH_PKGCONFIG) --cflags libuv 2>/dev/null)
BENCH_LIBS	:= $(shell $(BENCH_PKGCONFIG) --libs libuv 2>/dev/null)
BENCH_BINS	:= $(B)/bench/loadgen $(B)/bench/refserver $(B)/bench/chatburst

bench-build: $(BENCH_BINS)

$(B)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_LIBS)

bench: bench-build
	MAKE="$(MAKE)" B="$(B)" sh bench/run.sh

.PHONY: bench bench-build

# Included before the top Makefile's first target, this file must not
# become the default goal; run alone, it builds the tools.
ifeq ($(words $(MAKEFILE_LIST)),1)
.DEFAULT_GOAL	:= bench-build
else
.DEFAULT_GOAL	:= $(BENCH_GOAL)
endif
