#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

const char *kvm_device_path(void)
{
	const char *p = getenv("CAPSULE_KVM");
	return p && *p ? p : "/dev/kvm";
}

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "IRQCHIP" },
	{ KVM_CAP_PIT2, "PIT2" },
	{ KVM_CAP_IOEVENTFD, "IOEVENTFD" },
	{ KVM_CAP_IRQFD, "IRQFD" },
	{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
	{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
	{ KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" },
	{ KVM_CAP_MP_STATE, "MP_STATE" },
};

int kvm_open(cap_err *err)
{
	const char *path = kvm_device_path();
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return cap_errf(err, errno, "%s: KVM is not available (load kvm-intel or kvm-amd, or enable "
				       "nested virtualisation)", path);
		return cap_errf(err, errno, "%s: cannot open KVM", path);
	}
	int v = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (v < 0) {
		int e = errno;
		close(fd);
		return cap_errf(err, e == ENOTTY ? 0 : e, "%s: not a KVM device", path);
	}
	if (v != KVM_API_VERSION) {
		close(fd);
		return cap_errf(err, 0, "%s: KVM API version %d, Capsule needs %d", path, v, KVM_API_VERSION);
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			close(fd);
			return cap_errf(err, 0, "%s: KVM lacks the %s capability Capsule needs", path,
					required_caps[i].name);
		}
	}
	return fd;
}

int kvm_max_vcpus(int kvm_fd)
{
	int n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (n <= 0)
		n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	return n > 0 ? n : 4;
}

/* Probed once: a jailed VMM (src/vmm/sandbox/jail.c) asks before it loses /sys. */
bool kvm_is_pvm_host(void)
{
	static int known = -1;
	struct stat st;
	const char *override = getenv("CAPSULE_ASSUME_PVM");
	if (override)
		return *override == '1';
	if (known < 0)
		known = stat("/sys/module/kvm_pvm", &st) == 0;
	return known;
}

struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd, cap_err *err)
{
	/* Grow until KVM stops saying E2BIG. */
	for (int n = 256; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)n * sizeof(struct kvm_cpuid_entry2));
		if (!c) {
			cap_errf(err, ENOMEM, "KVM CPUID table");
			return NULL;
		}
		c->nent = (unsigned)n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		int e = errno;
		free(c);
		if (e != E2BIG) {
			cap_errf(err, e, "KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
	}
	cap_errf(err, E2BIG, "KVM_GET_SUPPORTED_CPUID");
	return NULL;
}
