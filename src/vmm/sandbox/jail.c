#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../oci/cgfile.h"
#include "../../oci/cgroup.h"
#include "../api/api.h"
#include "../kvm.h"

/* The per-VM cgroup, under every hierarchy (the same path in each, as a container's). */
#define JAIL_CGROUP_PARENT "/capsule-vm"

void vm_jail_config_init(struct vm_jail_config *j)
{
	memset(j, 0, sizeof(*j));
	j->uid = VM_JAIL_DEFAULT_UID;
	j->gid = VM_JAIL_DEFAULT_GID;
}

void vm_jail_config_free(struct vm_jail_config *j)
{
	free(j->id);
	free(j->base);
	free(j->netns);
	for (int i = 0; i < j->ncgroups; i++) {
		free(j->cgroups[i].key);
		free(j->cgroups[i].value);
	}
	vm_jail_config_init(j);
}

static int set_str(char **field, const char *v, cap_err *err)
{
	char *s = strdup(v);
	if (!s)
		return cap_errf(err, ENOMEM, "jail");
	free(*field);
	*field = s;
	return 0;
}

int vm_jail_set_id(struct vm_jail_config *j, const char *id, cap_err *err)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64 || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != n)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0,
				     "vm id '%s': want 1 to 64 letters, digits, '_' or '-'", id);
	return set_str(&j->id, id, err);
}

static int parse_id(const char *what, const char *s, unsigned *out, cap_err *err)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v >= 0xffffffffUL || s[0] == '-')
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "jail %s '%s': want a number", what, s);
	if (v == 0)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0,
				     "jail %s 0: the jailed VMM must not run as root", what);
	*out = (unsigned)v;
	return 0;
}

int vm_jail_set_uid(struct vm_jail_config *j, const char *s, cap_err *err)
{
	unsigned v;
	int r = parse_id("uid", s, &v, err);
	if (r == 0)
		j->uid = v;
	return r;
}

int vm_jail_set_gid(struct vm_jail_config *j, const char *s, cap_err *err)
{
	unsigned v;
	int r = parse_id("gid", s, &v, err);
	if (r == 0)
		j->gid = v;
	return r;
}

int vm_jail_set_base(struct vm_jail_config *j, const char *dir, cap_err *err)
{
	if (dir[0] != '/')
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "jail base '%s': want an absolute path", dir);
	return set_str(&j->base, dir, err);
}

int vm_jail_set_netns(struct vm_jail_config *j, const char *path, cap_err *err)
{
	if (!*path)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "jail network namespace: the path is empty");
	return set_str(&j->netns, path, err);
}

int vm_jail_add_cgroup(struct vm_jail_config *j, const char *kv, cap_err *err)
{
	const char *eq = strchr(kv, '=');
	if (j->ncgroups == VM_JAIL_MAX_CGROUP)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "jail cgroup '%s': at most %d settings", kv,
				     VM_JAIL_MAX_CGROUP);
	size_t klen = eq ? (size_t)(eq - kv) : 0;
	/* A controller file: "<controller>.<name>", nothing that walks the tree. */
	const char *dot = eq ? memchr(kv, '.', klen) : NULL;
	if (!eq || !dot || dot == kv || dot + 1 == eq ||
	    strspn(kv, "abcdefghijklmnopqrstuvwxyz0123456789_.") < klen || !eq[1] || strchr(eq + 1, '\n'))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0,
				     "jail cgroup '%s': want CONTROLLER.FILE=VALUE (cpu.cfs_quota_us=50000)", kv);
	struct vm_jail_cgroup *c = &j->cgroups[j->ncgroups];
	c->key = strndup(kv, klen);
	c->value = strdup(eq + 1);
	if (!c->key || !c->value) {
		free(c->key), free(c->value);
		c->key = c->value = NULL;
		return cap_errf(err, ENOMEM, "jail cgroup");
	}
	j->ncgroups++;
	return 0;
}

int vm_jail_validate(const struct vm_jail_config *j, const struct vm_config *vm, cap_err *err)
{
	if (!j->enabled)
		return 0;
	if (!j->id)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "jail: a VM id is required (it names the jail)");
	/* Both would be host paths the jailed VMM can no longer reach; refused until the jail maps them. */
	if (vm->console == VM_CONSOLE_FILE)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0,
				     "jail: a console file is not available in a jail (use stdio or none)");
	if (vm->vsock_uds)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "jail: vsock is not available in a jail yet");
	return 0;
}

int vm_jail_root(const struct vm_jail_config *j, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/%s/root", j->base ? j->base : VM_JAIL_DEFAULT_BASE, j->id);
	return n > 0 && (size_t)n < outsz ? 0 : -ENAMETOOLONG;
}

/* ---- host side: the jail directory and the cgroups ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

/* Remove CHROOT_BASE/<id> and what the VMM made in it, never crossing into another filesystem
 * (the bind mounts lived in the VMM's mount namespace, which is gone; this is the belt). */
static void remove_jail_dir(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

struct jail_host {
	char api_link[PATH_MAX]; /* API_RUN_DIR/<id>.sock -> the jail's socket; "" if not made */
	char taps[VM_MAX_NETS][IFNAMSIZ]; /* TAPs the jail made (and removes); "" for one that existed */
	char dir[PATH_MAX];    /* CHROOT_BASE/<id> */
	char root[PATH_MAX];   /* .../root */
	char cgroup[PATH_MAX]; /* /capsule-vm/<id> */
	struct cg_layout cg;
	bool cg_made;
	bool dir_made;
};

/* The VMM, unprivileged, can attach only to a persistent TAP its uid owns: make those that do not
 * exist yet (in the VM's network namespace), owned by the uid, and remove them afterwards. */
static int tap_persist(const char *name, const struct vm_jail_config *j, bool on, cap_err *err)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return cap_errf(err, errno, "jail: tap %s: /dev/net/tun", name);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int r = 0;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    (on && (ioctl(fd, TUNSETOWNER, (unsigned long)j->uid) < 0 ||
		    ioctl(fd, TUNSETGROUP, (unsigned long)j->gid) < 0)) ||
	    ioctl(fd, TUNSETPERSIST, on ? 1UL : 0UL) < 0)
		r = cap_errf(err, errno, "jail: tap %s", name);
	close(fd);
	return r;
}

/* Run fn in the jail's network namespace (netns_fd < 0: ours). */
static int in_netns(int netns_fd, int (*fn)(struct jail_host *, const struct vm_jail_config *,
					    const struct vm_config *, cap_err *),
		    struct jail_host *h, const struct vm_jail_config *j, const struct vm_config *cfg, cap_err *err)
{
	int self = -1, r;
	if (netns_fd >= 0) {
		if ((self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0 || setns(netns_fd, CLONE_NEWNET) < 0) {
			r = cap_errf(err, errno, "jail: network namespace %s", j->netns);
			if (self >= 0)
				close(self);
			return r;
		}
	}
	r = fn(h, j, cfg, err);
	if (self >= 0) {
		if (setns(self, CLONE_NEWNET) < 0)
			r = cap_errf(err, errno, "jail: back to the host's network namespace");
		close(self);
	}
	return r;
}

static int make_taps(struct jail_host *h, const struct vm_jail_config *j, const struct vm_config *cfg,
		     cap_err *err)
{
	for (int i = 0; i < cfg->nnets; i++) {
		const char *name = cfg->nets[i].tap;
		int r;
		if (strlen(name) >= IFNAMSIZ)
			return cap_errf(err, 0, "tap %s: name longer than %d characters", name, IFNAMSIZ - 1);
		if (if_nametoindex(name))
			continue; /* the user's: it must already be usable by the uid */
		if ((r = tap_persist(name, j, true, err)) < 0)
			return r;
		snprintf(h->taps[i], sizeof(h->taps[i]), "%s", name);
	}
	return 0;
}

static int remove_taps(struct jail_host *h, const struct vm_jail_config *j, const struct vm_config *cfg,
		       cap_err *err)
{
	(void)cfg;
	for (int i = 0; i < VM_MAX_NETS; i++)
		if (h->taps[i][0]) {
			tap_persist(h->taps[i], j, false, err);
			h->taps[i][0] = 0;
		}
	return 0;
}

/* API_RUN_DIR/<id>.sock names the jailed VM's socket, as it does an unjailed named VM's. */
static int link_api(struct jail_host *h, const struct vm_jail_config *j, cap_err *err)
{
	char target[PATH_MAX + 32];
	if (api_make_run_dir(err) < 0 || api_default_sock(j->id, h->api_link, sizeof(h->api_link)) < 0) {
		h->api_link[0] = 0;
		return err->set ? -1 : cap_errf(err, ENAMETOOLONG, "jail: API socket link for %s", j->id);
	}
	snprintf(target, sizeof(target), "%s" VM_JAIL_API_SOCK, h->root);
	if (symlink(target, h->api_link) < 0) {
		int e = errno;
		char name[PATH_MAX];
		snprintf(name, sizeof(name), "%s", h->api_link);
		h->api_link[0] = 0;
		return cap_errf(err, e, "jail: %s%s", name, e == EEXIST ? " (a VM with this id runs)" : "");
	}
	return 0;
}

static void host_cleanup(struct jail_host *h, const struct vm_jail_config *j, int netns_fd)
{
	if (h->api_link[0]) {
		unlink(h->api_link);
		h->api_link[0] = 0;
	}
	cap_err ignored = { 0 };
	bool any = false;
	for (int i = 0; i < VM_MAX_NETS; i++)
		any |= h->taps[i][0] != 0;
	if (any)
		in_netns(netns_fd, remove_taps, h, j, NULL, &ignored);
	if (h->cg_made) {
		/* The VMM's PID namespace dies with it; its tasks take a moment to leave the cgroup. */
		for (int i = 0; i < 500 && cg_destroy(&h->cg, h->cgroup) == -EBUSY; i++)
			usleep(2000);
		/* The shared parent goes with the last VM (rmdir fails while another one is there). */
		for (int i = 0; i < h->cg.n; i++) {
			char parent[PATH_MAX];
			if (snprintf(parent, sizeof(parent), "%s" JAIL_CGROUP_PARENT, h->cg.h[i].mnt) < (int)sizeof(parent))
				rmdir(parent);
		}
		h->cg_made = false;
	}
	if (h->dir_made) {
		remove_jail_dir(h->dir);
		h->dir_made = false;
	}
}

static const struct cg_hier *hier_for(const struct cg_layout *l, const char *ctrl)
{
	for (int i = 0; i < l->n; i++) {
		const struct cg_hier *h = &l->h[i];
		if (!h->v2 && cg_has_ctrl(h, ctrl))
			return h;
	}
	for (int i = 0; i < l->n; i++) {
		const struct cg_hier *h = &l->h[i];
		char list[512];
		if (h->v2 && cg_read(h->mnt, "cgroup.controllers", list, sizeof(list)) >= 0 && cg_list_has(list, ctrl))
			return h;
	}
	return NULL;
}

static int host_cgroup(struct jail_host *h, const struct vm_jail_config *j, cap_err *err)
{
	int r;
	unsigned made = 0;
	if ((r = cg_layout_detect(&h->cg, err)) < 0)
		return r;
	snprintf(h->cgroup, sizeof(h->cgroup), JAIL_CGROUP_PARENT "/%s", j->id);
	for (int i = 0; i < j->ncgroups; i++) {
		char ctrl[64];
		const char *key = j->cgroups[i].key;
		snprintf(ctrl, sizeof(ctrl), "%.*s", (int)(strchr(key, '.') - key), key);
		const struct cg_hier *hh = hier_for(&h->cg, ctrl);
		if (!hh)
			return cap_errf(err, 0, "jail cgroup %s: no cgroup hierarchy on this host has the %s controller",
					key, ctrl);
		if (hh->v2) {
			/* v2 delegates a controller to children only through the parents' subtree_control. */
			char parent[PATH_MAX];
			if (snprintf(parent, sizeof(parent), "%s" JAIL_CGROUP_PARENT, hh->mnt) >= (int)sizeof(parent))
				return cap_errf(err, ENAMETOOLONG, "jail cgroup %s", hh->mnt);
			mkdir(parent, 0755);
			cg_writef(hh->mnt, "cgroup.subtree_control", NULL, "+%s", ctrl);
			cg_writef(parent, "cgroup.subtree_control", NULL, "+%s", ctrl);
		}
	}
	if ((r = cg_create(&h->cg, h->cgroup, NULL, &made, err)) < 0)
		return r;
	h->cg_made = true;
	for (int i = 0; i < j->ncgroups; i++) {
		const char *key = j->cgroups[i].key;
		char ctrl[64], dir[PATH_MAX];
		snprintf(ctrl, sizeof(ctrl), "%.*s", (int)(strchr(key, '.') - key), key);
		const struct cg_hier *hh = hier_for(&h->cg, ctrl);
		if (snprintf(dir, sizeof(dir), "%s%s", hh->mnt, h->cgroup) >= (int)sizeof(dir))
			return cap_errf(err, ENAMETOOLONG, "jail cgroup %s", hh->mnt);
		if (access(dir, F_OK) < 0 || cg_write(dir, key, j->cgroups[i].value, NULL) < 0)
			return cap_errf(err, errno, "jail cgroup %s=%s", key, j->cgroups[i].value);
	}
	return 0;
}

static int host_prepare(struct jail_host *h, const struct vm_jail_config *j, cap_err *err)
{
	const char *base = j->base ? j->base : VM_JAIL_DEFAULT_BASE;
	struct statvfs vfs;
	int r;
	if (snprintf(h->dir, sizeof(h->dir), "%s/%s", base, j->id) >= (int)sizeof(h->dir) ||
	    vm_jail_root(j, h->root, sizeof(h->root)) < 0)
		return cap_errf(err, ENAMETOOLONG, "jail %s/%s", base, j->id);
	if ((r = mkdir_p(base, 0755)) < 0)
		return cap_errf(err, -r, "jail base %s", base);
	/* The jail's /dev/kvm lives on the base's filesystem: a nodev mount would make it unopenable. */
	if (statvfs(base, &vfs) == 0 && (vfs.f_flag & ST_NODEV))
		return cap_errf(err, 0, "jail base %s: its filesystem is mounted nodev (device nodes cannot be "
				"opened there)", base);
	if (mkdir(h->dir, 0755) < 0) {
		if (errno == EEXIST)
			return cap_errf(err, 0,
					"jail %s: already exists (a VM with this id runs, or a killed one left it: "
					"remove the directory)", h->dir);
		return cap_errf(err, errno, "jail %s", h->dir);
	}
	h->dir_made = true;
	if (mkdir(h->root, 0755) < 0)
		return cap_errf(err, errno, "jail %s", h->root);
	return host_cgroup(h, j, err);
}

/* ---- the VMM's side: build the root, pivot, drop ---- */

static int make_node(const char *root, const char *name, const char *host_path, mode_t mode,
		     const struct vm_jail_config *j, cap_err *err)
{
	struct stat st;
	char p[PATH_MAX];
	if (stat(host_path, &st) < 0)
		return cap_errf(err, errno, "jail: %s", host_path);
	if (!S_ISCHR(st.st_mode))
		return cap_errf(err, 0, "jail: %s is not a character device", host_path);
	snprintf(p, sizeof(p), "%s%s", root, name);
	if (mknod(p, S_IFCHR | mode, st.st_rdev) < 0 || chown(p, j->uid, j->gid) < 0 || chmod(p, mode) < 0)
		return cap_errf(err, errno, "jail: mknod %s", p);
	return 0;
}

/* Bind host file src at root/name (read-only unless rw) and point *field at /name. */
static int bind_file(const char *root, const char *name, char **field, bool rw, cap_err *err)
{
	char dst[PATH_MAX];
	int fd;
	snprintf(dst, sizeof(dst), "%s/%s", root, name);
	if ((fd = open(dst, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600)) < 0)
		return cap_errf(err, errno, "jail: %s", dst);
	close(fd);
	unsigned long ro = rw ? 0 : MS_RDONLY;
	if (mount(*field, dst, NULL, MS_BIND, NULL) < 0)
		return cap_errf(err, errno, "jail: bind %s", *field);
	if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | ro, NULL) < 0)
		return cap_errf(err, errno, "jail: remount %s", dst);
	char in_jail[PATH_MAX];
	snprintf(in_jail, sizeof(in_jail), "/%s", name);
	return vm_config_set_string(field, in_jail, err);
}

static int build_root(const char *root, const struct vm_jail_config *j, struct vm_config *cfg, cap_err *err)
{
	char p[PATH_MAX];
	int r;
	static const char *const dirs[] = { "/dev", "/dev/net", "/run" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", root, dirs[i]);
		if (mkdir(p, 0755) < 0)
			return cap_errf(err, errno, "jail: %s", p);
	}
	/* /run is the VMM's: the API socket goes there. */
	snprintf(p, sizeof(p), "%s/run", root);
	if (chown(p, j->uid, j->gid) < 0)
		return cap_errf(err, errno, "jail: %s", p);
	if ((r = make_node(root, "/dev/kvm", kvm_device_path(), 0600, j, err)) < 0 ||
	    (r = make_node(root, "/dev/urandom", "/dev/urandom", 0444, j, err)) < 0 ||
	    (cfg->nnets > 0 && (r = make_node(root, "/dev/net/tun", "/dev/net/tun", 0600, j, err)) < 0))
		return r;
	/* (no kernel yet: it comes through the API, a path inside the jail) */
	if (cfg->kernel && (r = bind_file(root, "kernel", &cfg->kernel, false, err)) < 0)
		return r;
	if (cfg->initrd && (r = bind_file(root, "initrd", &cfg->initrd, false, err)) < 0)
		return r;
	for (int i = 0; i < cfg->ndisks; i++) {
		char name[32];
		snprintf(name, sizeof(name), "disk%d", i);
		if ((r = bind_file(root, name, &cfg->disks[i].path, !cfg->disks[i].readonly, err)) < 0)
			return r;
	}
	return 0;
}

static int enter_root(const char *root, cap_err *err)
{
	/* Nothing the jail mounts may reach the host's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return cap_errf(err, errno, "jail: make the mounts private");
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return cap_errf(err, errno, "jail: bind %s", root);
	return 0;
}

static int pivot(const char *root, cap_err *err)
{
	/* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only the jail. */
	if (chdir(root) < 0)
		return cap_errf(err, errno, "jail: %s", root);
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
			return cap_errf(err, errno, "jail: detach the old root");
		return 0;
	}
	/* An initramfs root cannot be pivoted (EINVAL): move the jail over / and chroot, as runc does
	 * there. The old root stays underneath, out of reach of a process without CAP_SYS_CHROOT,
	 * which the VMM no longer has in any set. */
	if (errno != EINVAL || mount(root, "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return cap_errf(err, errno, "jail: pivot_root into %s", root);
	return 0;
}

static int drop_privileges(const struct vm_jail_config *j, cap_err *err)
{
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return cap_errf(err, errno, "jail: drop capability %d from the bounding set", c);
	if (setgroups(0, NULL) < 0 || setresgid(j->gid, j->gid, j->gid) < 0)
		return cap_errf(err, errno, "jail: gid %u", (unsigned)j->gid);
	if (setresuid(j->uid, j->uid, j->uid) < 0)
		return cap_errf(err, errno, "jail: uid %u", (unsigned)j->uid);
	/* setresuid from 0 cleared the permitted and effective sets; ambient ones go too. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return cap_errf(err, errno, "jail: clear ambient capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cap_errf(err, errno, "jail: no_new_privs");
	return 0;
}

static int vmm_side(const struct jail_host *h, const struct vm_jail_config *j, struct vm_config *cfg,
		    int netns_fd, cap_err *err)
{
	int r;
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC) < 0)
		return cap_errf(err, errno, "jail: new mount and IPC namespaces");
	if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
		return cap_errf(err, errno, "jail: join network namespace %s", j->netns);
	if ((r = enter_root(h->root, err)) < 0 || (r = build_root(h->root, j, cfg, err)) < 0 ||
	    (r = pivot(h->root, err)) < 0)
		return r;
	/* The device node made above is the jail's /dev/kvm, whatever host path it came from. */
	unsetenv("CAPSULE_KVM");
	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
		return cap_errf(err, errno, "jail: close inherited files");
	return drop_privileges(j, err);
}

/* ---- the supervisor ---- */

static void supervise(struct jail_host *h, const struct vm_jail_config *j, int netns_fd, pid_t pid)
	__attribute__((noreturn));
static void supervise(struct jail_host *h, const struct vm_jail_config *j, int netns_fd, pid_t pid)
{
	sigset_t set;
	int st = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			break;
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig > 0 && sig != SIGCHLD)
			kill(pid, sig); /* a stop request for the VM: the VMM handles it */
	}
	host_cleanup(h, j, netns_fd);
	fflush(NULL);
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "capsule: vm: the jailed VMM was killed by signal %s\n", strsignal(WTERMSIG(st)));
		_exit(CAP_EXIT_SIGNAL + WTERMSIG(st));
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : CAP_EXIT_ERROR);
}

int vm_jail_enter(const struct vm_jail_config *j, struct vm_config *cfg, cap_err *err)
{
	struct jail_host *h = calloc(1, sizeof(*h));
	int netns_fd = -1, sync[2] = { -1, -1 }, r;
	pid_t pid;
	if (!h)
		return cap_errf(err, ENOMEM, "jail");
	/* Probed now: the jail has no /sys. */
	(void)kvm_is_pvm_host();
	if (j->netns && (netns_fd = open(j->netns, O_RDONLY | O_CLOEXEC)) < 0) {
		r = cap_errf(err, errno, "jail: network namespace %s", j->netns);
		goto fail;
	}
	if ((r = host_prepare(h, j, err)) < 0 || (r = in_netns(netns_fd, make_taps, h, j, cfg, err)) < 0 ||
	    (r = link_api(h, j, err)) < 0)
		goto fail;
	if (pipe2(sync, O_CLOEXEC) < 0) {
		r = cap_errf(err, errno, "jail: pipe");
		goto fail;
	}
	/* The next child is PID 1 of a new PID namespace: the VMM sees no host process. */
	if (unshare(CLONE_NEWPID) < 0) {
		r = cap_errf(err, errno, "jail: new PID namespace");
		goto fail;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = cap_errf(err, errno, "jail: fork");
		goto fail;
	}
	if (pid == 0) {
		char go;
		close(sync[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (read(sync[0], &go, 1) != 1)
			_exit(CAP_EXIT_ERROR); /* the supervisor failed and reports it */
		close(sync[0]);
		h->dir_made = h->cg_made = false; /* the supervisor's to remove */
		h->api_link[0] = 0;
		memset(h->taps, 0, sizeof(h->taps));
		r = vmm_side(h, j, cfg, netns_fd, err);
		free(h);
		return r;
	}
	close(sync[0]);
	sync[0] = -1;
	if ((r = cg_enter(&h->cg, h->cgroup, pid, err)) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto fail;
	}
	/* A VMM killed before it reads this must not take the supervisor with it (SIGPIPE): the
	 * write fails with EPIPE and the supervisor reports how the VMM died and removes the jail. */
	signal(SIGPIPE, SIG_IGN);
	if (write(sync[1], "g", 1) != 1 && errno != EPIPE) {
		r = cap_errf(err, errno, "jail: start the VMM");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto fail;
	}
	close(sync[1]);
	supervise(h, j, netns_fd, pid);
fail:
	if (sync[0] >= 0)
		close(sync[0]);
	if (sync[1] >= 0)
		close(sync[1]);
	host_cleanup(h, j, netns_fd);
	if (netns_fd >= 0)
		close(netns_fd);
	free(h);
	return r;
}
