#include "migrate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "machine.h"
#include "snapshot.h"
#include "vm.h"

#define MIG_MAGIC "CAPSMIG1"
#define MIG_VERSION 1
#define MIG_PAGE 4096u
#define MIG_MAX_RAM (1ULL << 40)        /* bounds on what a peer may ask us to hold */
#define MIG_MAX_STATE (64u << 20)
#define MIG_CHUNK (1u << 20)            /* a PAGES record carries at most this */
#define MIG_ANSWER_TIMEOUT_MS 60000

enum { REC_PAGES = 1, REC_STATE = 2, REC_DONE = 3 };

struct mig_header {
	char magic[8];
	uint32_t version, page;
	uint64_t ram;
};

struct mig_rec {
	uint32_t type, zero;
	uint64_t off, len;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- addresses ---- */

static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len, cap_err *err)
{
	memset(ss, 0, sizeof(*ss));
	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un *u = (struct sockaddr_un *)ss;
		const char *p = addr + 5;
		if (!*p || strlen(p) >= sizeof(u->sun_path))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "migration address %s: the socket path is empty or too long", addr);
		u->sun_family = AF_UNIX;
		memcpy(u->sun_path, p, strlen(p) + 1);
		*len = (socklen_t)sizeof(*u);
		return 0;
	}
	if (!strncmp(addr, "tcp:", 4)) {
		char host[256];
		const char *colon = strrchr(addr + 4, ':');
		char *end;
		long port = colon ? strtol(colon + 1, &end, 10) : -1;
		size_t hl = colon ? (size_t)(colon - addr - 4) : 0;
		if (!colon || *end || port < 1 || port > 65535 || hl == 0 || hl >= sizeof(host))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "migration address %s: want tcp:HOST:PORT", addr);
		memcpy(host, addr + 4, hl);
		host[hl] = 0;
		if (host[0] == '[' && host[hl - 1] == ']') {
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = 0;
		}
		if (!strcmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
		struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
			in4->sin_family = AF_INET;
			in4->sin_port = htons((uint16_t)port);
			*len = sizeof(*in4);
		} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			*len = sizeof(*in6);
		} else {
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "migration address %s: the host must be an IP address", addr);
		}
		return 0;
	}
	return cap_errf_code(err, CAP_EXIT_USAGE, 0, "migration address '%s': want unix:PATH or tcp:HOST:PORT", addr);
}

int migrate_connect(const char *addr, cap_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (parse_addr(addr, &ss, &len, err) < 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return cap_errf(err, e, "migrate: connecting to %s", addr);
	}
	int one = 1;
	if (ss.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int migrate_listen(const char *addr, cap_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (parse_addr(addr, &ss, &len, err) < 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd >= 0 && ss.ss_family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return cap_errf(err, e, "migrate: listening on %s", addr);
	}
	return fd;
}

int migrate_accept(int lfd, const char *addr, cap_err *err)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	int e = errno;
	close(lfd);
	if (!strncmp(addr, "unix:", 5))
		unlink(addr + 5);
	if (fd < 0)
		return cap_errf(err, e, "migrate: accepting on %s", addr);
	return fd;
}

/* ---- the stream ---- */

static int send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int recv_all(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	while (n) {
		ssize_t r = recv(fd, b, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ECONNRESET;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int send_rec(int fd, uint32_t type, uint64_t off, const void *data, uint64_t len)
{
	struct mig_rec r = { .type = type, .off = off, .len = len };
	int e = send_all(fd, &r, sizeof(r));
	return e < 0 || !len ? e : send_all(fd, data, (size_t)len);
}

struct sender {
	struct vm *vm;
	int fd;
	uint64_t bytes;
};

static int send_range(void *ctx, uint64_t off, uint64_t len)
{
	struct sender *s = ctx;
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done > MIG_CHUNK ? MIG_CHUNK : len - done;
		int r = send_rec(s->fd, REC_PAGES, off + done, s->vm->mem.base + off + done, n);
		if (r < 0)
			return r;
		done += n;
		s->bytes += n;
	}
	return 0;
}

static bool page_zero(const uint8_t *p)
{
	static const uint8_t z[MIG_PAGE];
	return !memcmp(p, z, MIG_PAGE);
}

/* Round 0: every page with data (where the memfd has data, or every non-zero page). */
static int send_all_ram(struct sender *s)
{
	const struct guest_mem *m = &s->vm->mem;
	int r = 0;
	if (!m->cow && m->memfd >= 0) {
		for (off_t off = 0; off < (off_t)m->total && r == 0;) {
			off_t d = lseek(m->memfd, off, SEEK_DATA);
			if (d < 0)
				break; /* ENXIO: no data after off */
			off_t h = lseek(m->memfd, d, SEEK_HOLE);
			if (h < 0 || h > (off_t)m->total)
				h = (off_t)m->total;
			r = send_range(s, (uint64_t)d, (uint64_t)(h - d));
			off = h;
		}
		return r;
	}
	for (uint64_t off = 0; off < m->total && r == 0;) {
		if (page_zero(m->base + off)) {
			off += MIG_PAGE;
			continue;
		}
		uint64_t end = off + MIG_PAGE;
		while (end < m->total && !page_zero(m->base + end))
			end += MIG_PAGE;
		r = send_range(s, off, end - off);
		off = end;
	}
	return r;
}

/* The data of a sparse file (a diff snapshot's memory) as PAGES records. */
static int send_file_data(struct sender *s, int fd, uint64_t size)
{
	uint8_t *buf = malloc(MIG_CHUNK);
	int r = buf ? 0 : -ENOMEM;
	for (off_t off = 0; r == 0 && off < (off_t)size;) {
		off_t d = lseek(fd, off, SEEK_DATA);
		if (d < 0)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);
		if (h < 0 || h > (off_t)size)
			h = (off_t)size;
		for (off_t p = d; r == 0 && p < h;) {
			size_t n = (size_t)(h - p > MIG_CHUNK ? MIG_CHUNK : h - p);
			if (pread(fd, buf, n, p) != (ssize_t)n)
				r = -EIO;
			else
				r = send_rec(s->fd, REC_PAGES, (uint64_t)p, buf, n);
			s->bytes += n;
			p += (off_t)n;
		}
		off = h;
	}
	free(buf);
	return r;
}

static int send_file(int sock, int fd, uint32_t type, cap_err *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return cap_errf(err, errno, "migrate: the state file");
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return cap_errf(err, ENOMEM, "migrate: the state file");
	int r = pread(fd, buf, (size_t)st.st_size, 0) == st.st_size ? send_rec(sock, type, 0, buf, (uint64_t)st.st_size) : -EIO;
	free(buf);
	return r < 0 ? cap_errf(err, -r, "migrate: sending the state") : 0;
}

static int wait_answer(int fd, cap_err *err)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, MIG_ANSWER_TIMEOUT_MS);
	if (n <= 0)
		return cap_errf(err, n == 0 ? ETIMEDOUT : errno, "migrate: no answer from the destination");
	char buf[600];
	ssize_t r = recv(fd, buf, sizeof(buf) - 1, 0);
	if (r <= 0)
		return cap_errf(err, r < 0 ? errno : 0, "migrate: the destination closed the connection before the VM ran there");
	buf[r] = 0;
	if (buf[0] == 'R')
		return 0;
	return cap_errf(err, 0, "migrate: the destination refused: %s", buf[0] == 'E' ? buf + 1 : "(no reason)");
}

int vm_migrate_send(struct vm *vm, int fd, unsigned max_downtime_ms, struct vm_migrate_stats *st, cap_err *err)
{
	char dir[] = "/tmp/capsule-migrate-XXXXXX", state[64], mem[64];
	struct sender s = { .vm = vm, .fd = fd };
	struct mig_header h = { .version = MIG_VERSION, .page = MIG_PAGE, .ram = vm->mem.total };
	bool was_running = vm_get_state(vm) == VM_RUNNING, paused = false;
	double t0 = now_ms(), td = 0;
	int r;
	memset(st, 0, sizeof(*st));
	memcpy(h.magic, MIG_MAGIC, 8);
	if (!mkdtemp(dir) && !(strcpy(dir, "/run/capsule-migrate-XXXXXX"), mkdtemp(dir)))
		return cap_errf(err, errno, "migrate: a temporary directory");
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(mem, sizeof(mem), "%s/mem", dir);
	if ((r = vm_snapshot_track_dirty(vm, err)) < 0)
		goto out;
	if ((r = send_all(fd, &h, sizeof(h))) < 0 || (r = send_all_ram(&s)) < 0) {
		r = cap_errf(err, -r, "migrate: sending memory");
		goto out;
	}
	/* Pre-copy: resend what was dirtied, until a round's worth fits the downtime target at the
	 * bandwidth measured so far. */
	while (was_running && st->rounds < MIGRATE_MAX_ROUNDS) {
		uint64_t pages = 0;
		if ((r = vm_snapshot_dirty_ranges(vm, send_range, &s, &pages)) < 0) {
			r = cap_errf(err, -r, "migrate: sending dirty memory (round %d)", st->rounds + 1);
			goto out;
		}
		st->rounds++;
		double ms = now_ms() - t0;
		double bw = ms > 0.01 ? (double)s.bytes / ms : 1e12; /* bytes per ms */
		if (pages == 0 || (double)pages * MIG_PAGE / bw <= max_downtime_ms)
			break;
	}
	if (was_running && (r = vm_pause(vm, err)) < 0)
		goto out;
	paused = was_running;
	td = now_ms();
	/* The rest: the last dirty pages and the device and vCPU state, as a diff snapshot. */
	struct vm_snapshot_params p = { .state_path = state, .mem_path = mem, .diff = true };
	if ((r = vm_snapshot_create(vm, &p, err)) < 0)
		goto out;
	int mfd = open(mem, O_RDONLY | O_CLOEXEC), sfd = open(state, O_RDONLY | O_CLOEXEC);
	uint64_t b0 = s.bytes;
	if (mfd < 0 || sfd < 0) {
		r = cap_errf(err, errno, "migrate: the final snapshot");
	} else if ((r = send_file_data(&s, mfd, vm->mem.total)) < 0) {
		r = cap_errf(err, -r, "migrate: sending the last dirty pages");
	} else if ((r = send_file(fd, sfd, REC_STATE, err)) == 0 && (r = send_rec(fd, REC_DONE, 0, NULL, 0)) < 0) {
		r = cap_errf(err, -r, "migrate: the end of the stream");
	}
	st->final_bytes = s.bytes - b0;
	if (mfd >= 0)
		close(mfd);
	if (sfd >= 0)
		close(sfd);
	if (r == 0)
		r = wait_answer(fd, err);
out:
	unlink(state);
	unlink(mem);
	rmdir(dir);
	st->bytes = s.bytes;
	st->total_ms = now_ms() - t0;
	st->downtime_ms = paused ? now_ms() - td : 0;
	if (r < 0 && paused) {
		cap_err e2 = { 0 };
		if (vm_resume(vm, &e2) < 0)
			cap_warn("migrate: resuming the VM after the failure: %s", e2.msg);
	}
	return r < 0 ? r : 0;
}

int vm_migrate_receive(int fd, char *state_path, char *mem_path, int fds[2], cap_err *err)
{
	struct mig_header h;
	struct mig_rec rec;
	int r, mfd = -1, sfd = -1;
	bool have_state = false;
	uint8_t *buf = NULL;
	fds[0] = fds[1] = -1;
	if ((r = recv_all(fd, &h, sizeof(h))) < 0)
		return cap_errf(err, -r, "migrate: reading the stream's header");
	if (memcmp(h.magic, MIG_MAGIC, 8) || h.version != MIG_VERSION || h.page != MIG_PAGE || !h.ram ||
	    h.ram > MIG_MAX_RAM || h.ram % MIG_PAGE)
		return cap_errf(err, 0, "migrate: not a Capsule migration stream of version %d (or a RAM size out of range)",
				MIG_VERSION);
	mfd = memfd_create("capsule-migrate-ram", MFD_CLOEXEC);
	sfd = memfd_create("capsule-migrate-state", MFD_CLOEXEC);
	buf = malloc(MIG_CHUNK);
	if (mfd < 0 || sfd < 0 || !buf || ftruncate(mfd, (off_t)h.ram) < 0) {
		r = cap_errf(err, errno ? errno : ENOMEM, "migrate: %llu MiB for the guest's memory",
			     (unsigned long long)(h.ram >> 20));
		goto fail;
	}
	for (;;) {
		if ((r = recv_all(fd, &rec, sizeof(rec))) < 0) {
			r = cap_errf(err, -r, "migrate: the stream ended before its end record");
			goto fail;
		}
		if (rec.type == REC_DONE)
			break;
		if (rec.type == REC_PAGES) {
			if (rec.zero || rec.len > MIG_CHUNK || rec.off > h.ram || rec.len > h.ram - rec.off) {
				r = cap_errf(err, 0, "migrate: a memory record outside the guest's %llu bytes",
					     (unsigned long long)h.ram);
				goto fail;
			}
			if ((r = recv_all(fd, buf, (size_t)rec.len)) < 0 ||
			    pwrite(mfd, buf, (size_t)rec.len, (off_t)rec.off) != (ssize_t)rec.len) {
				r = cap_errf(err, r < 0 ? -r : errno, "migrate: receiving memory");
				goto fail;
			}
		} else if (rec.type == REC_STATE && !have_state && rec.len && rec.len <= MIG_MAX_STATE && !rec.off) {
			uint8_t *st = malloc((size_t)rec.len);
			if (!st || (r = recv_all(fd, st, (size_t)rec.len)) < 0 || write(sfd, st, (size_t)rec.len) != (ssize_t)rec.len) {
				free(st);
				r = cap_errf(err, st ? EIO : ENOMEM, "migrate: receiving the state");
				goto fail;
			}
			free(st);
			have_state = true;
		} else {
			r = cap_errf(err, 0, "migrate: an unexpected record (type %u)", rec.type);
			goto fail;
		}
	}
	if (!have_state) {
		r = cap_errf(err, 0, "migrate: the stream had no state");
		goto fail;
	}
	free(buf);
	snprintf(mem_path, PATH_MAX, "/proc/self/fd/%d", mfd);
	snprintf(state_path, PATH_MAX, "/proc/self/fd/%d", sfd);
	fds[0] = mfd, fds[1] = sfd;
	return 0;
fail:
	free(buf);
	if (mfd >= 0)
		close(mfd);
	if (sfd >= 0)
		close(sfd);
	return r < 0 ? r : -1;
}

void vm_migrate_answer(int fd, const cap_err *err)
{
	char msg[sizeof(err->msg) + 2];
	int n = err ? snprintf(msg, sizeof(msg), "E%s", err->msg) : snprintf(msg, sizeof(msg), "R");
	if (send_all(fd, msg, (size_t)n) < 0)
		cap_warn("migrate: the source did not hear the answer");
}
