/* `capsule oci` output: state, list, ps, features, events on stdout; spec into a file. */
#include "oci_output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../oci/spec_builder.h"

/* One JSON value and a newline on stdout. */
static int print_json(const json_t *j, size_t flags, cap_err *err)
{
	char *s = json_dumps(j, flags);
	if (!s)
		return cap_errf(err, ENOMEM, "cannot format the output");
	printf("%s\n", s);
	free(s);
	return fflush(stdout) == 0 ? 0 : cap_errf(err, errno, "cannot write the output");
}

int oci_print_state(const struct oci_runtime *rt, const char *id, cap_err *err)
{
	struct oci_container_state st;
	int r = oci_state_get(rt, id, &st, err);
	if (r < 0)
		return r;
	r = print_json(st.json, JSON_INDENT(2), err);
	oci_container_state_free(&st);
	return r;
}

int oci_print_list(const struct oci_runtime *rt, bool json, bool quiet, cap_err *err)
{
	struct oci_container_state *v;
	size_t n;
	int r = oci_list(rt, &v, &n, err);
	if (r < 0)
		return r;
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append(arr, v[i].json);
		r = print_json(arr, JSON_COMPACT, err);
		json_decref(arr);
	} else {
		if (!quiet)
			printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
			       "OWNER");
		for (size_t i = 0; i < n; i++) {
			if (quiet)
				printf("%s\n", v[i].id);
			else
				printf("%-20s %-8d %-10s %-40s %-30s %s\n", v[i].id, v[i].pid,
				       oci_status_name(v[i].status), v[i].bundle ? v[i].bundle : "",
				       v[i].created ? v[i].created : "", "root");
		}
	}
	oci_list_free(v, n);
	return r;
}

int oci_print_ps(const struct oci_runtime *rt, const char *id, bool json, cap_err *err)
{
	pid_t *pids;
	size_t n;
	int r = oci_ps(rt, id, &pids, &n, err);
	if (r < 0)
		return r;
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", pids[i]);
		printf("]\n");
	} else {
		printf("PID\n");
		for (size_t i = 0; i < n; i++)
			printf("%d\n", pids[i]);
	}
	free(pids);
	return 0;
}

int oci_print_features(cap_err *err)
{
	json_t *f = oci_features();
	if (!f)
		return cap_errf(err, ENOMEM, "features");
	int r = print_json(f, JSON_INDENT(4), err);
	json_decref(f);
	return r;
}

int oci_write_spec(const char *bundle, bool rootless, cap_err *err)
{
	char p[PATH_MAX + 16];
	json_t *spec = oci_sb_default();
	int r;
	if (!spec)
		return cap_errf(err, ENOMEM, "spec");
	if (rootless && (r = oci_sb_make_rootless(spec, geteuid(), getegid(), err)) < 0)
		goto out;
	char *text = json_dumps(spec, JSON_INDENT(4));
	if (!text) {
		r = cap_errf(err, ENOMEM, "spec");
		goto out;
	}
	snprintf(p, sizeof(p), "%s/config.json", bundle ? bundle : ".");
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = errno == EEXIST ? cap_errf(err, 0, "spec: %s already exists", p)
				    : cap_errf(err, errno, "spec: cannot create %s", p);
		free(text);
		goto out;
	}
	size_t len = strlen(text);
	text[len++] = '\n';   /* in place of the NUL: the length is known */
	ssize_t n = write(fd, text, len);
	int e = errno;
	free(text);
	if (close(fd) < 0 && n == (ssize_t)len) {
		n = -1;
		e = errno;
	}
	r = n == (ssize_t)len ? 0 : cap_errf(err, n < 0 ? e : EIO, "spec: cannot write %s", p);
out:
	json_decref(spec);
	return r;
}

static int print_event(json_t *ev, void *arg)
{
	cap_err *err = arg;
	return print_json(ev, JSON_COMPACT, err) < 0 ? -EIO : 0;
}

int oci_print_events(const struct oci_runtime *rt, const char *id, bool stats_once, unsigned interval_ms,
		     cap_err *err)
{
	if (stats_once) {
		json_t *data;
		int r = oci_stats(rt, id, &data, err);
		if (r < 0)
			return r;
		json_t *ev = json_pack("{s:s,s:s,s:o}", "type", "stats", "id", id, "data", data);
		r = print_json(ev, JSON_COMPACT, err);
		json_decref(ev);
		return r;
	}
	return oci_events(rt, id, interval_ms, print_event, err, err);
}
