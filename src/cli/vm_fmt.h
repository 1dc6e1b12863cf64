/* Small formatting shared by vm ls and vm status. */
#ifndef CAPSULE_CLI_VM_FMT_H
#define CAPSULE_CLI_VM_FMT_H

#include <stddef.h>
#include <stdio.h>

/* 950 ms -> "0s", 75 s -> "1m15s", 2 h -> "2h00m", 3 days -> "3d00h"; 0 -> "-". */
static inline void vm_fmt_uptime(long long ms, char *buf, size_t len)
{
	long long s = ms / 1000;
	if (ms <= 0)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

#endif
