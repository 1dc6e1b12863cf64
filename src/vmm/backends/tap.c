#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tap_open(const char *name, int vnet_hdr_len, cap_err *err)
{
	struct ifreq ifr;
	int fd, r;

	if (strlen(name) >= IFNAMSIZ)
		return cap_errf(err, 0, "tap %s: name longer than %d characters", name, IFNAMSIZ - 1);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return cap_errf(err, errno, "tap %s: /dev/net/tun", name);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = cap_errf(err, errno, "tap %s: TUNSETIFF", name);
		goto fail;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &vnet_hdr_len) < 0) {
		r = cap_errf(err, errno, "tap %s: TUNSETVNETHDRSZ", name);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

int tap_set_offload(int fd, unsigned flags)
{
	return ioctl(fd, TUNSETOFFLOAD, flags) < 0 ? -errno : 0;
}
