/* The state directory: create/load/save round trip, the two user-facing errors, id checks,
 * and status computed from the recorded pid and its start time. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/oci/state.h"

static char root[64];

static void ids_are_checked(void)
{
	cap_err err = { 0 };
	CHECK_EQ(oci_id_check("abc-1.2_x", &err), 0);
	CHECK(oci_id_check("../x", &err) < 0);
	cap_err_clear(&err);
	CHECK(oci_id_check("..", &err) < 0);
	cap_err_clear(&err);
	CHECK(oci_id_check("a b", &err) < 0);
	cap_err_clear(&err);
	CHECK(oci_id_check("", &err) < 0);
}

static void round_trip_and_errors(void)
{
	struct oci_state st, st2;
	cap_err err = { 0 };

	CHECK_EQ(oci_state_new(root, "c1", &st, &err), 0);
	json_object_set_new(st.j, "id", json_string("c1"));
	json_object_set_new(st.j, "bundle", json_string("/b"));
	json_object_set_new(st.j, "pid", json_integer(getpid()));
	json_object_set_new(st.j, "starttime", json_integer((json_int_t)oci_proc_starttime(getpid())));
	CHECK_EQ(oci_state_save(&st, &err), 0);
	oci_state_close(&st);

	/* a second create of the same id */
	CHECK(oci_state_new(root, "c1", &st2, &err) < 0);
	CHECK(strstr(err.msg, "container c1 already exists") != NULL);
	cap_err_clear(&err);

	CHECK_EQ(oci_state_load(root, "c1", &st, &err), 0);
	CHECK_STR(st.bundle, "/b");
	/* our own pid, alive, no exec.fifo: running */
	CHECK_EQ(st.status, ST_RUNNING);
	json_t *pub = oci_state_public(&st);
	CHECK_STR(json_string_value(json_object_get(pub, "status")), "running");
	CHECK(json_is_object(json_object_get(pub, "annotations")));
	json_decref(pub);
	/* a recorded start time that does not match: the pid was reused, so stopped */
	st.starttime += 1;
	CHECK_EQ(oci_state_status(&st), ST_STOPPED);
	oci_state_remove(&st);
	oci_state_close(&st);

	/* -ENOENT, which delete --force relies on (not the message text) */
	CHECK_EQ(oci_state_load(root, "c1", &st, &err), -ENOENT);
	CHECK(strstr(err.msg, "container c1 does not exist") != NULL);
	cap_err_clear(&err);
	/* a state directory without state.json (a create killed before its first write) is a
	 * stopped container that list and delete see, not an absent one */
	char half[128];
	snprintf(half, sizeof(half), "%s/half", root);
	CHECK_EQ(mkdir(half, 0700), 0);
	CHECK_EQ(oci_state_load(root, "half", &st, &err), 0);
	CHECK_STR(st.id, "half");
	CHECK_EQ(st.status, ST_STOPPED);
	CHECK(st.cgroup == NULL);
	oci_state_remove(&st);
	oci_state_close(&st);
	CHECK(access(half, F_OK) < 0);

	/* a save killed half-way leaves the previous record whole: state.json is replaced by
	 * rename, and a stale state.json.tmp does not count */
	CHECK_EQ(oci_state_new(root, "c2", &st, &err), 0);
	json_object_set_new(st.j, "bundle", json_string("/b2"));
	CHECK_EQ(oci_state_save(&st, &err), 0);
	int tfd = openat(st.dirfd, "state.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(tfd >= 0 && write(tfd, "{\"bund", 7) == 7);
	close(tfd);
	oci_state_close(&st);
	CHECK_EQ(oci_state_load(root, "c2", &st, &err), 0);
	CHECK_STR(st.bundle, "/b2");
	oci_state_remove(&st);
	oci_state_close(&st);
}

static void starttime_of_gone_process(void)
{
	CHECK(oci_proc_starttime(getpid()) > 0);
	CHECK_EQ(oci_proc_starttime(0x3fffffff), 0ULL);
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/capsule-unit-state.%d", getpid());
	RUN(ids_are_checked);
	RUN(round_trip_and_errors);
	RUN(starttime_of_gone_process);
	rmdir(root);
	UNIT_EXIT();
}
