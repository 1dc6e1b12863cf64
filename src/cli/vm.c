/* capsule vm <command>: run micro-VMs. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../vmm/api/api.h"
#include "../vmm/boot/boot.h"
#include "../vmm/instance.h"
#include "../vmm/run.h"
#include "../vmm/sandbox/jail.h"
#include "../vmm/sandbox/seccomp.h"
#include "../vmm/vm.h"
#include "commands.h"
#include "vm_snapshot.h"

static int set_kernel(struct vm_config *c, const char *v, cap_err *err)
{
	return vm_config_set_string(&c->kernel, v, err);
}

static int set_initrd(struct vm_config *c, const char *v, cap_err *err)
{
	return vm_config_set_string(&c->initrd, v, err);
}

static int set_cmdline(struct vm_config *c, const char *v, cap_err *err)
{
	return vm_config_set_string(&c->cmdline, v, err);
}

/* Flags arrive as "true" or "false" (--rng=false). */
#define FLAG_SETTER(field)                                                    \
	static int set_##field(struct vm_config *c, const char *v, cap_err *err) \
	{                                                                     \
		(void)err;                                                    \
		c->field = strcmp(v, "false") != 0;                           \
		return 0;                                                     \
	}
FLAG_SETTER(boot_timer)
FLAG_SETTER(pvh)
FLAG_SETTER(rng)
FLAG_SETTER(balloon)

static int set_decompress(struct vm_config *c, const char *v, cap_err *err)
{
	(void)err; /* the table's choices (host|guest) were checked by the parser */
	c->guest_decompress = !strcmp(v, "guest");
	return 0;
}
static int set_debug(struct vm_config *c, const char *v, cap_err *err)
{
	(void)c, (void)err;
	if (strcmp(v, "false"))
		cap_log_set_level(CAP_LOG_DEBUG);
	return 0;
}

static int set_seccomp(struct vm_config *c, const char *v, cap_err *err)
{
	return vmm_seccomp_parse_mode(v, &c->seccomp, err);
}

/* The options of the "vm run" row, applied in command-line order (--disk order is device order). */
static const struct { const char *name; int (*set)(struct vm_config *, const char *, cap_err *); } run_setters[] = {
	{ "kernel", set_kernel }, { "initrd", set_initrd }, { "cmdline", set_cmdline },
	{ "cpus", vm_config_set_cpus }, { "memory", vm_config_set_memory }, { "console", vm_config_set_console },
	{ "boot-timer", set_boot_timer }, { "bzimage-decompress", set_decompress }, { "pvh", set_pvh },
	{ "disk", vm_config_add_disk }, { "root-disk", vm_config_set_root_disk }, { "net", vm_config_add_net },
	{ "vsock", vm_config_set_vsock }, { "rng", set_rng }, { "balloon", set_balloon }, { "seccomp", set_seccomp },
	{ "debug", set_debug },
};

static int set_jail(struct vm_jail_config *j, const char *v, cap_err *err)
{
	(void)err;
	j->enabled = strcmp(v, "false") != 0;
	return 0;
}

/* The jail's options (src/vmm/sandbox/jail.h). */
static const struct { const char *name; int (*set)(struct vm_jail_config *, const char *, cap_err *); } jail_setters[] = {
	{ "jail", set_jail }, { "id", vm_jail_set_id }, { "uid", vm_jail_set_uid }, { "gid", vm_jail_set_gid },
	{ "chroot-base", vm_jail_set_base }, { "netns", vm_jail_set_netns }, { "cgroup", vm_jail_add_cgroup },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int apply_option(struct vm_config *cfg, struct vm_jail_config *jail, bool *jail_opt, const char *name,
			const char *value, cap_err *err)
{
	for (size_t s = 0; s < NELEM(run_setters); s++)
		if (!strcmp(run_setters[s].name, name))
			return run_setters[s].set(cfg, value, err);
	for (size_t s = 0; s < NELEM(jail_setters); s++)
		if (!strcmp(jail_setters[s].name, name)) {
			*jail_opt |= strcmp(name, "jail") && strcmp(name, "id");
			return jail_setters[s].set(jail, value, err);
		}
	abort(); /* an option in the table row without a setter here */
}

int cli_vm_run(const struct cli_args *a, cap_err *err)
{
	struct vm_config cfg;
	struct vm_jail_config jail;
	struct vmm_snapshot_at *snaps = NULL;
	bool jail_opt = false;
	int nsnaps = 0, r = 0;

	vm_config_init(&cfg);
	vm_jail_config_init(&jail);
	/* Values are checked by the VMM's validator (src/vmm/config.c), whose messages name the value. */
	for (size_t k = 0; k < a->n && r == 0; k++)
		if (strcmp(a->v[k].opt->name, "api-sock") && strcmp(a->v[k].opt->name, "config-file") &&
		    strcmp(a->v[k].opt->name, "snapshot")) /* below */
			r = apply_option(&cfg, &jail, &jail_opt, a->v[k].opt->name, a->v[k].value, err);
	struct vmm_run_opts o = { .id = cli_str(a, "id"), .api_sock = cli_str(a, "api-sock"),
				  .config_file = cli_str(a, "config-file") };
	char sock[256];
	/* A jailed VMM serves its API inside the jail (CHROOT_BASE/ID/root/run/api.sock on the host;
	 * the supervisor links API_RUN_DIR/ID.sock to it, so capsule vm pause ID finds it). */
	if (r == 0 && jail.enabled && o.api_sock)
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0,
				  "vm run: --api-sock with --jail: the jailed VMM's socket is CHROOT_BASE/ID/root" VM_JAIL_API_SOCK);
	if (r == 0 && jail.enabled)
		o.api_sock = VM_JAIL_API_SOCK;
	if (r == 0 && o.id && !o.api_sock && !jail.enabled) {
		/* A named VM is driven by name (capsule vm pause NAME): its socket is in the run dir. */
		if (api_default_sock(o.id, sock, sizeof(sock)) < 0)
			r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm run: id '%s': too long for a socket path", o.id);
		o.api_sock = sock;
		o.default_dir = true;
	}
	if (r == 0 && !cfg.kernel && !o.api_sock && !o.config_file)
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0,
				  "vm run: --kernel PATH is required (or --config-file, or --api-sock PATH / --id NAME to "
				  "configure it through the API)");
	if (r == 0 && jail_opt && !jail.enabled)
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0,
				  "vm run: --uid, --gid, --chroot-base, --netns and --cgroup need --jail");
	if (r == 0 && jail.enabled && !jail.id)
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm run: --jail needs --id NAME (it names the jail)");
	if (r == 0)
		r = cli_vm_snapshots(a, false, &snaps, &nsnaps, err);
	if (r == 0 && jail.enabled && nsnaps)
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0,
				  "vm run: --snapshot is not available with --jail (the jail has no place for its files)");
	if (r == 0 && (r = vm_config_validate(&cfg, err)) == 0 && (r = vm_jail_validate(&jail, &cfg, err)) == 0 &&
	    (!jail.enabled || (r = vm_jail_enter(&jail, &cfg, err)) == 0)) {
		o.snapshots = snaps;
		o.nsnapshots = nsnaps;
		r = vmm_run(&cfg, &o, err);
	}
	cli_vm_snapshots_free(snaps, nsnaps);
	vm_jail_config_free(&jail);
	vm_config_free(&cfg);
	return r < 0 ? -1 : r;
}

int cli_vm_extract_kernel(const struct cli_args *a, cap_err *err)
{
	const char *in = a->argv[0], *out = a->argv[1];
	uint8_t *elf = NULL;
	size_t len = 0;
	int r = bzimage_extract_elf(in, &elf, &len, err);
	if (r < 0)
		return -1;
	errno = 0;
	FILE *f = fopen(out, "wb");
	if (!f) {
		free(elf);
		return cap_errf(err, errno, "%s", out);
	}
	size_t n = fwrite(elf, 1, len, f);
	int ce = fclose(f);
	free(elf);
	if (n != len || ce != 0) {
		unlink(out);
		return cap_errf(err, errno ? errno : EIO, "%s: write failed", out);
	}
	return 0;
}
