/* Commands on existing containers besides their life cycle: list, ps, pause, resume,
 * update; and what the runtime supports (features). */
#include "lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/json.h"
#include "cgroup.h"

int oci_list(const struct oci_runtime *rt, struct oci_container_state **out, size_t *n, cap_err *err)
{
	const char *root = oci_root(rt);
	DIR *d = opendir(root);
	struct dirent *de;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : cap_errf(err, errno, "cannot read %s", root);
	while ((de = readdir(d))) {
		struct oci_state st;
		cap_err tmp = { 0 };
		if (de->d_name[0] == '.')
			continue;
		if (oci_state_load(root, de->d_name, &st, &tmp) < 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			struct oci_container_state *nv = realloc(*out, cap * sizeof(**out));
			if (!nv) {
				oci_state_close(&st);
				closedir(d);
				oci_list_free(*out, *n);
				*out = NULL;
				*n = 0;
				return cap_errf(err, ENOMEM, "cannot list %s", root);
			}
			*out = nv;
		}
		oci_state_export(&st, &(*out)[(*n)++]);
		oci_state_close(&st);
	}
	closedir(d);
	return 0;
}

void oci_list_free(struct oci_container_state *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		oci_container_state_free(&v[i]);
	free(v);
}

int oci_ps(const struct oci_runtime *rt, const char *id, pid_t **pids, size_t *n, cap_err *err)
{
	struct oci_state st;
	struct cg_layout cg;
	*pids = NULL;
	*n = 0;
	int r = oci_state_load(oci_root(rt), id, &st, err);
	if (r < 0)
		return r;
	if ((r = cg_layout_detect(&cg, err)) < 0)
		goto out;
	cg_layout_bind(&cg, json_object_get(st.j, "cgroupBases"));
	if (st.cgroup && (r = cg_pids(&cg, st.cgroup, pids, n)) < 0) {
		r = cap_errf(err, -r, "cannot list the processes of %s", id);
		goto out;
	}
	r = 0;
out:
	oci_state_close(&st);
	return r;
}

static int set_paused(const struct oci_runtime *rt, const char *id, bool pause, cap_err *err)
{
	struct oci_state st;
	struct cg_layout cg;
	int r = oci_state_load(oci_root(rt), id, &st, err);
	if (r < 0)
		return r;
	if (pause && st.status != ST_RUNNING) {
		r = cap_errf(err, 0, "cannot pause container %s: it is %s", id, oci_status_name(st.status));
		goto out;
	}
	if (!pause && st.status != ST_PAUSED) {
		r = cap_errf(err, 0, "cannot resume container %s: it is %s", id, oci_status_name(st.status));
		goto out;
	}
	if ((r = cg_layout_detect(&cg, err)) < 0)
		goto out;
	cg_layout_bind(&cg, json_object_get(st.j, "cgroupBases"));
	if ((r = cg_freeze(&cg, st.cgroup, pause, err)) < 0)
		goto out;
	json_object_set_new(st.j, "paused", json_boolean(pause));
	r = oci_state_save(&st, err);
out:
	oci_state_close(&st);
	return r;
}

int oci_pause(const struct oci_runtime *rt, const char *id, cap_err *err)
{
	return set_paused(rt, id, true, err);
}

int oci_resume(const struct oci_runtime *rt, const char *id, cap_err *err)
{
	return set_paused(rt, id, false, err);
}

int oci_update(const struct oci_runtime *rt, const char *id, json_t *rj, cap_err *err)
{
	struct oci_state st;
	struct oci_resources res;
	struct cg_layout cg;
	int r = oci_state_load(oci_root(rt), id, &st, err);
	if (r < 0)
		return r;
	oci_resources_init(&res);
	if (st.status == ST_STOPPED) {
		r = cap_errf(err, 0, "cannot update container %s: it is stopped", id);
		goto out;
	}
	if ((r = oci_resources_parse(rj, "resources", &res, err)) < 0)
		goto out;
	if ((r = cg_layout_detect(&cg, err)) < 0)
		goto out;
	cg_layout_bind(&cg, json_object_get(st.j, "cgroupBases"));
	r = cg_apply(&cg, st.cgroup, &res, err);
out:
	oci_resources_free(&res);
	oci_state_close(&st);
	return r;
}

static json_t *strarr(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; n ? i < n : v[i] != NULL; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *oci_features(void)
{
	static const char *const hooks[] = { "prestart", "createRuntime", "createContainer",
					      "startContainer", "poststart", "poststop", NULL };
	static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
		"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE",
		"SCMP_ACT_TRAP", NULL };
	static const char *const ops[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
		"SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL };
	static const char *const archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
		"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL };
	static const char *const flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
		"SECCOMP_FILTER_FLAG_TSYNC", NULL };
	json_t *f = json_object(), *l = json_object(), *caps = json_array(), *cg = json_object(),
	       *sc = json_object(), *ann = json_object();
	json_object_set_new(f, "ociVersionMin", json_string("1.0.0"));
	json_object_set_new(f, "ociVersionMax", json_string("1.1.0"));
	json_object_set_new(f, "hooks", strarr(hooks, 0));
	json_object_set_new(f, "mountOptions", strarr(oci_mount_option_names, 0));
	json_object_set_new(l, "namespaces", strarr(oci_ns_names, OCI_NS_COUNT));
	for (int i = 0; i <= oci_cap_last(); i++)
		json_array_append_new(caps, json_string(oci_cap_name(i)));
	json_object_set_new(l, "capabilities", caps);
	json_object_set_new(cg, "v1", json_true());
	json_object_set_new(cg, "v2", json_true());
	json_object_set_new(cg, "systemd", json_false());
	json_object_set_new(cg, "systemdUser", json_false());
	json_object_set_new(l, "cgroup", cg);
	json_object_set_new(sc, "enabled", json_true());
	json_object_set_new(sc, "actions", strarr(actions, 0));
	json_object_set_new(sc, "operators", strarr(ops, 0));
	json_object_set_new(sc, "archs", strarr(archs, 0));
	json_object_set_new(sc, "knownFlags", strarr(flags, 0));
	json_object_set_new(sc, "supportedFlags", strarr(flags, 0));
	json_object_set_new(l, "seccomp", sc);
	json_object_set_new(l, "apparmor", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(l, "selinux", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(f, "linux", l);
	const struct scmp_version *v = seccomp_version();
	char ver[32];
	snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
	json_object_set_new(ann, "io.github.seccomp.libseccomp.version", json_string(ver));
	json_object_set_new(ann, "org.capsule.runtime.version", json_string(CAPSULE_VERSION));
	json_object_set_new(f, "annotations", ann);
	return f;
}

