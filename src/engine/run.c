#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../oci/oci.h"
#include "../oci/spec_builder.h"

/* Docker's default capability set: what images expect root in a container to be able to do. */
const char *const engine_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
	"CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
	"CAP_AUDIT_WRITE",
};
const size_t engine_n_caps = sizeof(engine_caps) / sizeof(engine_caps[0]);

static int path_in(const struct instance *in, const char *rel, char *buf, size_t sz)
{
	size_t a = strlen(in->dir), b = strlen(rel);
	if (a + 1 + b + 1 > sz) {
		buf[0] = 0;
		return -ENAMETOOLONG;
	}
	memcpy(buf, in->dir, a);
	buf[a] = '/';
	memcpy(buf + a + 1, rel, b + 1);
	return 0;
}

int engine_overlay_mount(const char *target, char (*lowers)[PATH_MAX], size_t n, const char *upper,
			 const char *work, cap_err *err)
{
	char opts[8192];
	size_t len = (size_t)snprintf(opts, sizeof(opts), "lowerdir=");
	/* overlayfs takes the top layer first */
	for (size_t i = n; i-- > 0;) {
		int w = snprintf(opts + len, sizeof(opts) - len, "%s%s", i + 1 == n ? "" : ":", lowers[i]);
		if (w < 0 || (size_t)w >= sizeof(opts) - len)
			return cap_errf(err, 0, "%zu layers are more than one overlay mount takes", n);
		len += (size_t)w;
	}
	if (upper && (size_t)snprintf(opts + len, sizeof(opts) - len, ",upperdir=%s,workdir=%s", upper, work) >=
			     sizeof(opts) - len)
		return cap_errf(err, 0, "the overlay options are too long");
	if (mount("overlay", target, "overlay", upper ? 0 : MS_RDONLY, opts) < 0)
		return cap_errf(err, errno, "%s: mounting an overlay of %zu layers", target, n);
	return 0;
}

int engine_image_lowers(struct store *s, const struct store_image *img, const char *empty, char (**out)[PATH_MAX],
			size_t *n, cap_err *err)
{
	/* An empty directory at the bottom: an overlay needs a lowerdir even for an image of no layers,
	 * and two of them to be mounted without an upper. */
	char (*v)[PATH_MAX] = calloc(img->n_layers + 1, sizeof(*v));
	if (!v)
		return cap_errf(err, ENOMEM, "layers");
	mkdir(empty, 0755);
	snprintf(v[0], sizeof(v[0]), "%s", empty);
	for (size_t i = 0; i < img->n_layers; i++) {
		int r;
		if ((r = store_layer_dir(s, img->diff_ids[i], v[i + 1], sizeof(v[i + 1]))) < 0 ||
		    (access(v[i + 1], F_OK) < 0 && (r = store_unpack_layer(s, img->layers[i], img->diff_ids[i], err)) < 0)) {
			free(v);
			return r < 0 ? r : -1;
		}
	}
	*out = v;
	*n = img->n_layers + 1;
	return 0;
}

int engine_mount_root(struct store *s, struct instance *in, cap_err *err)
{
	struct store_image img;
	char rootfs[PATH_MAX], upper[PATH_MAX], work[PATH_MAX], empty[PATH_MAX], (*lowers)[PATH_MAX] = NULL;
	size_t n = 0;
	int r = store_image_load(s, instance_str(in, "image"), &img, err);
	if (r < 0)
		return r;
	path_in(in, "bundle/rootfs", rootfs, sizeof(rootfs));
	path_in(in, "upper", upper, sizeof(upper));
	path_in(in, "work", work, sizeof(work));
	path_in(in, "lower-empty", empty, sizeof(empty));
	mkdir(upper, 0755);
	mkdir(work, 0700);
	if ((r = engine_image_lowers(s, &img, empty, &lowers, &n, err)) == 0 &&
	    (r = engine_overlay_mount(rootfs, lowers, n, upper, work, err)) < 0)
		cap_err_prefix(err, "container %.12s", in->id);
	free(lowers);
	store_image_free(&img);
	return r;
}

void engine_unmount_root(struct instance *in)
{
	char rootfs[PATH_MAX];
	path_in(in, "bundle/rootfs", rootfs, sizeof(rootfs));
	umount2(rootfs, MNT_DETACH);
}

/* A file of the instance's directory with text, bind-mounted read-only at dest. */
static int mount_file(struct instance *in, json_t *spec, const char *name, const char *dest, const char *text,
		      cap_err *err)
{
	char p[PATH_MAX];
	static const char *const ro[] = { "rbind", "ro" };
	path_in(in, name, p, sizeof(p));
	FILE *f = fopen(p, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		return cap_errf(err, errno, "%s", p);
	return oci_sb_add_mount(spec, dest, "bind", p, ro, 2, err);
}

/* --network bridge: the address leased before the config is written (the hosts file names it),
 * the plumbing by a createRuntime hook (net.h), and the DNS settings of the host minus the
 * loopback name servers a container cannot reach. */
static int bridge_spec(struct store *s, struct instance *in, json_t *spec, cap_err *err)
{
	char exe[PATH_MAX], ip[16], hosts[512], resolv[4096] = "", line[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return cap_errf(err, errno, "network hook: /proc/self/exe");
	exe[n] = 0;
	int r = engine_net_lease(s, in->id, ip, err);
	if (r < 0)
		return r;
	instance_set_str(in, "ip", ip);
	FILE *f = fopen("/etc/resolv.conf", "re");
	size_t len = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "nameserver 127.", 15) && strncmp(line, "nameserver ::1", 14) &&
		    len + strlen(line) < sizeof(resolv))
			len += (size_t)snprintf(resolv + len, sizeof(resolv) - len, "%s", line);
	if (f)
		fclose(f);
	snprintf(hosts, sizeof(hosts), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n%s\t%.12s %s\n", ip, in->id,
		 instance_str(in, "name"));
	if ((r = mount_file(in, spec, "hosts", "/etc/hosts", hosts, err)) < 0 ||
	    (r = mount_file(in, spec, "resolv.conf", "/etc/resolv.conf", resolv, err)) < 0)
		return r;
	json_t *hooks = json_object_get(spec, "hooks");
	if (!hooks)
		json_object_set_new(spec, "hooks", hooks = json_object());
	json_t *cr = json_object_get(hooks, "createRuntime");
	if (!cr)
		json_object_set_new(hooks, "createRuntime", cr = json_array());
	json_array_append_new(cr, json_pack("{s:s, s:[s,s,s,s,s,s], s:i}", "path", exe, "args", "capsule", "--root",
					    s->root, "container", "net-hook", in->id, "timeout", 30));
	return 0;
}

static int write_spec(struct store *s, struct instance *in, const struct engine_run_args *a, cap_err *err)
{
	char rootfs[PATH_MAX], cfg[PATH_MAX], cg[128];
	struct store_image img;
	int r = store_image_load(s, instance_str(in, "image"), &img, err);
	if (r < 0)
		return r;
	json_t *spec = oci_sb_default();
	path_in(in, "bundle/rootfs", rootfs, sizeof(rootfs));
	path_in(in, "bundle/config.json", cfg, sizeof(cfg));
	struct engine_run_opts proc = a->proc;
	char host[16];
	snprintf(host, sizeof(host), "%.12s", in->id);
	if (!proc.hostname)
		proc.hostname = host;
	if (!spec) {
		r = cap_errf(err, ENOMEM, "runtime config");
		goto out;
	}
	if ((r = oci_sb_set_root(spec, rootfs, false, err)) < 0 ||
	    (r = engine_spec_from_image(spec, img.config, rootfs, &proc, err)) < 0 ||
	    (r = oci_sb_set_caps(spec, OCI_SB_CAP_DEFAULT_SETS, engine_caps, engine_n_caps,
				 err)) < 0)
		goto out;
	if (a->net == ENGINE_NET_BRIDGE && (r = bridge_spec(s, in, spec, err)) < 0)
		goto out;
	if (a->net == ENGINE_NET_HOST) {
		static const char *const ro[] = { "rbind", "ro" };
		if ((r = oci_sb_remove_namespace(spec, "network", err)) < 0 ||
		    (r = oci_sb_add_mount(spec, "/etc/resolv.conf", "bind", "/etc/resolv.conf", ro, 2, err)) < 0 ||
		    (r = oci_sb_add_mount(spec, "/etc/hosts", "bind", "/etc/hosts", ro, 2, err)) < 0)
			goto out;
	}
	for (size_t i = 0; i < a->n_volumes; i++) {
		const struct engine_volume *v = &a->volumes[i];
		const char *opts[] = { "rbind", v->ro ? "ro" : "rw" };
		if ((r = oci_sb_add_mount(spec, v->ctr, "bind", v->host, opts, 2, err)) < 0)
			goto out;
	}
	snprintf(cg, sizeof(cg), "/capsule-engine/%s", in->id);
	json_object_set_new(json_object_get(spec, "linux"), "cgroupsPath", json_string(cg));
	if ((r = oci_sb_set_annotation(spec, "io.capsule.container.name", instance_str(in, "name"), err)) < 0)
		goto out;
	if (json_dump_file(spec, cfg, JSON_INDENT(1)) < 0)
		r = cap_errf(err, errno ? errno : EIO, "%s", cfg);
	/* The record keeps the command, for ps. */
	json_object_set(in->rec, "command", json_object_get(json_object_get(spec, "process"), "args"));
out:
	json_decref(spec);
	store_image_free(&img);
	return r;
}

void engine_net_cleanup(struct store *s, struct instance *in)
{
	const char *ip = instance_str(in, "ip");
	struct engine_port ports[64];
	size_t n = 0;
	if (!ip)
		return;
	engine_ports_from_json(json_object_get(in->rec, "ports"), ports, 64, &n);
	engine_net_unplumb(in->id, ip, ports, n);
	engine_net_release(s, in->id);
}

static int check_volumes(const struct engine_run_args *a, cap_err *err)
{
	for (size_t i = 0; i < a->n_volumes; i++) {
		const struct engine_volume *v = &a->volumes[i];
		struct stat st;
		if (v->host[0] != '/' || v->ctr[0] != '/')
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "volume %s:%s: want absolute paths", v->host, v->ctr);
		if (stat(v->host, &st) < 0)
			return cap_errf(err, errno, "volume %s", v->host);
	}
	return 0;
}

void engine_finish(struct store *s, struct instance *in, int exit_code, bool rm)
{
	char root[PATH_MAX], now[64];
	cap_err ignored = { 0 };
	instance_oci_root(s, root, sizeof(root));
	struct oci_runtime rt = { .root = root };
	oci_delete(&rt, in->id, true, &ignored);
	engine_net_cleanup(s, in);
	engine_unmount_root(in);
	if (rm) {
		instance_remove(s, in, &ignored);
		return;
	}
	instance_now(now, sizeof(now));
	instance_set_str(in, "status", "exited");
	instance_set_int(in, "exit_code", exit_code);
	instance_set_str(in, "finished", now);
	json_object_del(in->rec, "monitor_pid");
	instance_save(in, &ignored);
}

int engine_run(struct store *s, const struct engine_run_args *a, char *id_out, cap_err *err)
{
	json_t *images = NULL, *e;
	struct instance in = { 0 };
	char bundle[PATH_MAX], root[PATH_MAX], now[64];
	int r;
	if ((r = check_volumes(a, err)) < 0)
		return r;
	if (!(images = store_images_load(s, err)))
		return -1;
	if (!(e = store_images_find(images, a->image, err))) {
		json_decref(images);
		return -1;
	}
	char image_id[DIGEST_STR_LEN + 1];
	snprintf(image_id, sizeof(image_id), "%s", json_string_value(json_object_get(e, "id")));
	json_decref(images);
	if ((r = instance_new(s, a->name, image_id, a->image, &in, err)) < 0)
		return r;
	path_in(&in, "bundle", bundle, sizeof(bundle));
	mkdir(bundle, 0755);
	path_in(&in, "bundle/rootfs", root, sizeof(root));
	mkdir(root, 0755);
	if (a->n_ports)
		json_object_set_new(in.rec, "ports", engine_ports_json(a->ports, a->n_ports));
	/* The root first: the image's /etc/passwd and /etc/group name the user. */
	if ((r = engine_mount_root(s, &in, err)) < 0)
		goto fail_nomount;
	if ((r = write_spec(s, &in, a, err)) < 0 || (r = instance_save(&in, err)) < 0)
		goto fail;
	instance_oci_root(s, root, sizeof(root));
	struct oci_runtime rt = { .root = root };
	if (id_out)
		snprintf(id_out, INSTANCE_ID_LEN + 1, "%s", in.id);
	if (a->detach) {
		if ((r = engine_monitor_start(s, &in, a->rm, err)) < 0)
			goto fail;
		instance_free(&in);
		return 0;
	}
	instance_now(now, sizeof(now));
	instance_set_str(&in, "status", "running");
	instance_set_str(&in, "started", now);
	instance_set_int(&in, "monitor_pid", getpid());
	instance_save(&in, err);
	struct oci_create_args ca = { .id = in.id, .bundle = bundle };
	/* < 0: the container could not be made (nothing ran); else its exit status */
	r = oci_run(&rt, &ca, err);
	if (r < 0) {
		cap_err ignored = { 0 };
		oci_delete(&rt, in.id, true, &ignored);
		goto fail;
	}
	engine_finish(s, &in, r, a->rm);
	instance_free(&in);
	return r;
fail:
	engine_unmount_root(&in);
fail_nomount: {
	cap_err ignored = { 0 };
	engine_net_cleanup(s, &in);
	instance_remove(s, &in, &ignored);
	instance_free(&in);
	return r < 0 ? r : -1;
}
}
