/* The destination side of a live migration reads a stream from the network: every malformed
 * stream is refused with one line and nothing kept; a good one lands byte for byte in the RAM
 * memfd and the state memfd. The streams are written by hand here, as a hostile peer would. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/vmm/migrate.h"

struct hdr {
	char magic[8];
	uint32_t version, page;
	uint64_t ram;
};
struct rec {
	uint32_t type, zero;
	uint64_t off, len;
};

struct feed {
	int fd;
	const void *buf;
	size_t len;
};

static void *writer(void *p)
{
	struct feed *f = p;
	size_t done = 0;
	while (done < f->len) {
		ssize_t w = send(f->fd, (const char *)f->buf + done, f->len - done, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	shutdown(f->fd, SHUT_WR);
	return NULL;
}

/* Feed stream to vm_migrate_receive; its result, err and the fds (closed by the caller). */
static int receive(const void *stream, size_t len, cap_err *err, int fds[2])
{
	int sv[2];
	char state[PATH_MAX], mem[PATH_MAX];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -99;
	struct feed f = { sv[1], stream, len };
	pthread_t t;
	pthread_create(&t, NULL, writer, &f);
	int r = vm_migrate_receive(sv[0], state, mem, fds, err);
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	return r;
}

static size_t put(uint8_t *b, size_t at, const void *p, size_t n)
{
	memcpy(b + at, p, n);
	return at + n;
}

static size_t header(uint8_t *b, uint64_t ram)
{
	struct hdr h = { .version = 1, .page = 4096, .ram = ram };
	memcpy(h.magic, "CAPSMIG1", 8);
	return put(b, 0, &h, sizeof(h));
}

static size_t record(uint8_t *b, size_t at, uint32_t type, uint64_t off, const void *data, uint64_t len)
{
	struct rec r = { .type = type, .off = off, .len = len };
	at = put(b, at, &r, sizeof(r));
	return data ? put(b, at, data, (size_t)len) : at;
}

static uint8_t buf[1 << 16];

static void test_good_stream(void)
{
	uint8_t page[4096], st[100];
	memset(page, 0xab, sizeof(page));
	memset(st, 0x5a, sizeof(st));
	size_t n = header(buf, 8 * 4096);
	n = record(buf, n, 1, 3 * 4096, page, sizeof(page));
	n = record(buf, n, 2, 0, st, sizeof(st));
	n = record(buf, n, 3, 0, NULL, 0);
	cap_err err = { 0 };
	int fds[2];
	CHECK_EQ(receive(buf, n, &err, fds), 0);
	uint8_t got[4096];
	CHECK_EQ(pread(fds[0], got, sizeof(got), 3 * 4096), (ssize_t)sizeof(got));
	CHECK(!memcmp(got, page, sizeof(page)));
	CHECK_EQ(pread(fds[0], got, 16, 0), 16);
	CHECK_EQ(got[0], 0);
	CHECK_EQ(lseek(fds[1], 0, SEEK_END), (off_t)sizeof(st));
	close(fds[0]);
	close(fds[1]);
}

static void expect_refused(const void *s, size_t n, const char *want)
{
	cap_err err = { 0 };
	int fds[2] = { -1, -1 };
	CHECK(receive(s, n, &err, fds) < 0);
	CHECK(err.set && strstr(err.msg, want));
	if (!err.set || !strstr(err.msg, want))
		printf("# got: %s (want %s)\n", err.msg, want);
	CHECK_EQ(fds[0], -1);
}

static void test_hostile_streams(void)
{
	uint8_t page[4096] = { 1 };
	size_t n = header(buf, 8 * 4096);
	buf[0] = 'X';
	expect_refused(buf, n, "not a Capsule migration stream");
	expect_refused(buf, header(buf, 1ULL << 50), "not a Capsule migration stream");   /* RAM too big */
	expect_refused(buf, header(buf, 4096 + 1), "not a Capsule migration stream");     /* not pages */
	n = record(buf, header(buf, 8 * 4096), 1, 8 * 4096 - 100, page, 4096);           /* past the end */
	expect_refused(buf, n, "outside the guest");
	n = record(buf, header(buf, 8 * 4096), 1, UINT64_MAX - 10, NULL, 4096);           /* wraps */
	expect_refused(buf, n, "outside the guest");
	n = record(buf, header(buf, 8 * 4096), 9, 0, NULL, 0);
	expect_refused(buf, n, "unexpected record");
	n = record(buf, header(buf, 8 * 4096), 1, 0, page, 4096);                         /* cut short */
	expect_refused(buf, n, "ended before its end record");
	n = record(buf, header(buf, 8 * 4096), 3, 0, NULL, 0);
	expect_refused(buf, n, "no state");
	n = record(buf, header(buf, 8 * 4096), 2, 0, NULL, 1ULL << 40);                   /* a huge state */
	expect_refused(buf, n, "unexpected record");
	expect_refused(buf, 3, "header");
}

static void test_addresses(void)
{
	cap_err err = { 0 };
	CHECK(migrate_connect("carrier-pigeon:x", &err) < 0 && strstr(err.msg, "want unix:PATH or tcp:HOST:PORT"));
	cap_err_clear(&err);
	CHECK(migrate_connect("tcp:example.org:80", &err) < 0 && strstr(err.msg, "must be an IP address"));
	cap_err_clear(&err);
	CHECK(migrate_listen("tcp:127.0.0.1:0x50", &err) < 0 && strstr(err.msg, "want tcp:HOST:PORT"));
	cap_err_clear(&err);
	CHECK(migrate_connect("unix:", &err) < 0 && strstr(err.msg, "empty"));
}

int main(void)
{
	RUN(test_good_stream);
	RUN(test_hostile_streams);
	RUN(test_addresses);
	UNIT_EXIT();
}
