# Test guests: freestanding x86-64 ELFs built into $(B)/guest/<name>.elf, one per guest/tests/*.c,
# all linked against the mini runtime in guest/lib/. Included by the top Makefile.
# Own flags on purpose: the host build's CFLAGS/SAN/LDFLAGS (sanitizers, -pthread) make no sense here,
# and `make asan` overrides those on the command line.

GUEST_CFLAGS := -std=gnu11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -mno-red-zone \
	-mgeneral-regs-only -mcmodel=small -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fcf-protection=none -fno-omit-frame-pointer -O2 -g -Wall -Wextra -Werror -Iguest/lib
GUEST_LDFLAGS := -nostdlib -static -Wl,-T,guest/lib/guest.ld -Wl,--build-id=none \
	-Wl,-z,max-page-size=4096 -Wl,-z,noexecstack

GUEST_LIB_SRCS := $(sort $(wildcard guest/lib/*.c guest/lib/*.S))
GUEST_LIB_OBJS := $(patsubst guest/lib/%,$(B)/guest/obj/lib/%.o,$(GUEST_LIB_SRCS))
GUEST_NAMES := $(basename $(notdir $(wildcard guest/tests/*.c)))
GUEST_ELFS := $(GUEST_NAMES:%=$(B)/guest/%.elf)
GUEST_TEST_OBJS := $(GUEST_NAMES:%=$(B)/guest/obj/tests/%.o)
GUEST_DEPS := $(wildcard guest/lib/*.h) guest/lib/guest.ld guest/guest.mk

.PHONY: guests
guests: $(GUEST_ELFS) $(GUEST_TEST_OBJS) $(GUEST_LIB_OBJS)

$(B)/guest/obj/lib/%.o: guest/lib/% $(GUEST_DEPS) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	@$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(B)/guest/obj/tests/%.o: guest/tests/%.c $(GUEST_DEPS) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	@$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(B)/guest/%.elf: $(B)/guest/obj/tests/%.o $(GUEST_LIB_OBJS)
	@echo "  GUESTLD $@"
	@$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $^
