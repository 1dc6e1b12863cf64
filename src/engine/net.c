#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "../lib/json.h"

#define SUBNET_BASE 0x0a580000u /* 10.88.0.0 */
#define SUBNET_BITS 16

int engine_parse_port(const char *spec, struct engine_port *p, cap_err *err)
{
	char buf[64], *parts[3];
	int n = 0;
	memset(p, 0, sizeof(*p));
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		goto bad;
	char *slash = strchr(buf, '/');
	if (slash) {
		if (strcmp(slash + 1, "tcp"))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "publish %s: only tcp ports are published", spec);
		*slash = 0;
	}
	for (char *save, *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (n == 3)
			goto bad;
		parts[n++] = t;
	}
	if (n < 2)
		goto bad;
	if (n == 3) {
		struct in_addr a;
		if (inet_pton(AF_INET, parts[0], &a) != 1)
			goto bad;
		snprintf(p->host_ip, sizeof(p->host_ip), "%s", parts[0]);
	}
	for (int i = n - 2, k = 0; i < n; i++, k++) {
		char *end;
		long v = strtol(parts[i], &end, 10);
		if (*end || v < 1 || v > 65535)
			goto bad;
		if (k == 0)
			p->host_port = (uint16_t)v;
		else
			p->ctr_port = (uint16_t)v;
	}
	return 0;
bad:
	return cap_errf_code(err, CAP_EXIT_USAGE, 0, "publish %s: want [IP:]HOSTPORT:CONTAINERPORT[/tcp]", spec);
}

json_t *engine_ports_json(const struct engine_port *p, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:i, s:i}", "host_ip", p[i].host_ip, "host_port", p[i].host_port,
						   "ctr_port", p[i].ctr_port));
	return a;
}

int engine_ports_from_json(const json_t *arr, struct engine_port *p, size_t max, size_t *n)
{
	size_t i;
	const json_t *v;
	*n = 0;
	json_array_foreach(arr, i, v) {
		if (*n == max)
			break;
		const char *ip = json_string_value(json_object_get(v, "host_ip"));
		struct engine_port *q = &p[(*n)++];
		memset(q, 0, sizeof(*q));
		snprintf(q->host_ip, sizeof(q->host_ip), "%s", ip ? ip : "");
		q->host_port = (uint16_t)json_integer_value(json_object_get(v, "host_port"));
		q->ctr_port = (uint16_t)json_integer_value(json_object_get(v, "ctr_port"));
	}
	return 0;
}

/* ---- leases ---- */

static int lock_net(const struct store *s)
{
	char p[PATH_MAX];
	store_path(s, p, sizeof(p), "network.lock");
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static json_t *leases_load(const struct store *s)
{
	char p[PATH_MAX];
	json_error_t je;
	store_path(s, p, sizeof(p), "network.json");
	json_t *j = cap_json_load_path(p, 0, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	if (!json_is_object(json_object_get(j, "leases")))
		json_object_set_new(j, "leases", json_object());
	return j;
}

static int leases_save(const struct store *s, json_t *j)
{
	char p[PATH_MAX], tmp[PATH_MAX + 16];
	store_path(s, p, sizeof(p), "network.json");
	snprintf(tmp, sizeof(tmp), "%s.%d", p, (int)getpid());
	if (json_dump_file(j, tmp, JSON_INDENT(1)) < 0 || rename(tmp, p) < 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

int engine_net_lease(const struct store *s, const char *id, char ip[16], cap_err *err)
{
	int lock = lock_net(s);
	if (lock < 0)
		return cap_errf(err, errno, "network leases");
	json_t *j = leases_load(s), *leases = json_object_get(j, "leases"), *v;
	const char *k;
	uint32_t n = 1u << (32 - SUBNET_BITS);
	unsigned char *used = calloc(n, 1);
	int r = -ENOSPC;
	json_object_foreach(leases, k, v) {
		struct in_addr a;
		if (json_is_string(v) && inet_pton(AF_INET, json_string_value(v), &a) == 1) {
			uint32_t h = ntohl(a.s_addr);
			if ((h & ~(n - 1)) == SUBNET_BASE)
				used[h - SUBNET_BASE] = 1;
		}
	}
	/* .0 is the network, .1 the bridge, the last the broadcast address */
	for (uint32_t i = 2; used && i < n - 1; i++)
		if (!used[i]) {
			struct in_addr a = { .s_addr = htonl(SUBNET_BASE + i) };
			inet_ntop(AF_INET, &a, ip, 16);
			json_object_set_new(leases, id, json_string(ip));
			r = leases_save(s, j);
			break;
		}
	free(used);
	json_decref(j);
	close(lock);
	if (r < 0)
		return cap_errf(err, r == -ENOSPC ? 0 : -r, "network %s: %s", ENGINE_SUBNET,
				r == -ENOSPC ? "no free address" : "saving the leases");
	return 0;
}

void engine_net_release(const struct store *s, const char *id)
{
	int lock = lock_net(s);
	if (lock < 0)
		return;
	json_t *j = leases_load(s);
	if (json_object_get(json_object_get(j, "leases"), id)) {
		json_object_del(json_object_get(j, "leases"), id);
		leases_save(s, j);
	}
	json_decref(j);
	close(lock);
}

/* ---- nftables ---- */

/* Run nft with text on its stdin; its stderr into why. */
static int nft(const char *text, char *why, size_t whysz)
{
	int in[2], errp[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(errp[1], 2);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		/* Hooks run with an empty environment: look where Debian puts nft first. */
		execl("/usr/sbin/nft", "nft", "-f", "-", (char *)NULL);
		execl("/sbin/nft", "nft", "-f", "-", (char *)NULL);
		execlp("nft", "nft", "-f", "-", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(errp[1]);
	if (pid < 0) {
		close(in[1]), close(errp[0]);
		return -errno;
	}
	size_t len = strlen(text);
	signal(SIGPIPE, SIG_IGN); /* an nft that died early is reported by its status, not by killing us */
	if (write(in[1], text, len) != (ssize_t)len) {
		/* nft died early: its status says why */
	}
	close(in[1]);
	ssize_t n = read(errp[0], why, whysz - 1);
	why[n > 0 ? n : 0] = 0;
	why[strcspn(why, "\n")] = 0;
	close(errp[0]);
	int st;
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127 && !why[0])
		snprintf(why, whysz, "nft is not installed (nftables)");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static int nft_ensure_table(cap_err *err)
{
	char why[512];
	/* "add" of a table and of its chains is idempotent; the rules go in once, with the chains. */
	if (nft("list table ip " ENGINE_NFT_TABLE "\n", why, sizeof(why)) == 0)
		return 0;
	const char *rules =
		"table ip " ENGINE_NFT_TABLE " {\n"
		"  map ports_any { type inet_service : ipv4_addr . inet_service; }\n"
		"  map ports_ip { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
		"  chain prerouting { type nat hook prerouting priority dstnat; policy accept;\n"
		"    fib daddr type local dnat ip to tcp dport map @ports_any\n"
		"    fib daddr type local dnat ip to ip daddr . tcp dport map @ports_ip\n  }\n"
		"  chain output { type nat hook output priority -100; policy accept;\n"
		"    fib daddr type local dnat ip to tcp dport map @ports_any\n"
		"    fib daddr type local dnat ip to ip daddr . tcp dport map @ports_ip\n  }\n"
		"  chain postrouting { type nat hook postrouting priority srcnat; policy accept;\n"
		"    ip saddr " ENGINE_SUBNET " oifname != \"" ENGINE_BRIDGE "\" masquerade\n"
		"    ip saddr 127.0.0.0/8 oifname \"" ENGINE_BRIDGE "\" masquerade\n  }\n"
		"  chain forward { type filter hook forward priority filter; policy accept;\n"
		"    iifname \"" ENGINE_BRIDGE "\" accept\n"
		"    oifname \"" ENGINE_BRIDGE "\" accept\n  }\n"
		"}\n";
	if (nft(rules, why, sizeof(why)) < 0)
		return cap_errf(err, 0, "network: nftables table ip %s: %s", ENGINE_NFT_TABLE, why);
	return 0;
}

static int nft_ports(const char *verb, const char *ip, const struct engine_port *p, size_t n, char *why, size_t whysz)
{
	char text[8192];
	size_t len = 0;
	for (size_t i = 0; i < n && len < sizeof(text) - 256; i++) {
		if (p[i].host_ip[0])
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%s element ip " ENGINE_NFT_TABLE " ports_ip { %s . %u : %s . %u }\n", verb,
						p[i].host_ip, p[i].host_port, ip, p[i].ctr_port);
		else
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%s element ip " ENGINE_NFT_TABLE " ports_any { %u : %s . %u }\n", verb,
						p[i].host_port, ip, p[i].ctr_port);
	}
	return len ? nft(text, why, whysz) : 0;
}

/* ---- links ---- */

static void host_veth_name(const char *id, char *buf, size_t sz)
{
	snprintf(buf, sz, "cap%.8s", id);
}

static int write_proc(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write(fd, v, strlen(v)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int link_up(struct nl_sock *sk, struct rtnl_link *l, const char *rename, int master)
{
	struct rtnl_link *chg = rtnl_link_alloc();
	if (!chg)
		return -NLE_NOMEM;
	if (rename)
		rtnl_link_set_name(chg, rename);
	if (master > 0)
		rtnl_link_set_master(chg, master);
	rtnl_link_set_flags(chg, IFF_UP);
	int r = rtnl_link_change(sk, l, chg, 0);
	rtnl_link_put(chg);
	return r;
}

static int add_addr(struct nl_sock *sk, int ifindex, const char *cidr)
{
	struct nl_addr *local;
	int r = nl_addr_parse(cidr, AF_INET, &local);
	if (r < 0)
		return r;
	struct rtnl_addr *a = rtnl_addr_alloc();
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	r = rtnl_addr_add(sk, a, 0);
	rtnl_addr_put(a);
	nl_addr_put(local);
	return r == -NLE_EXIST ? 0 : r;
}

static int ensure_bridge(struct nl_sock *sk, int *ifindex, cap_err *err)
{
	struct rtnl_link *br = NULL;
	int r;
	if (rtnl_link_get_kernel(sk, 0, ENGINE_BRIDGE, &br) < 0) {
		struct rtnl_link *nb = rtnl_link_bridge_alloc();
		rtnl_link_set_name(nb, ENGINE_BRIDGE);
		r = rtnl_link_add(sk, nb, NLM_F_CREATE);
		rtnl_link_put(nb);
		if (r < 0 && r != -NLE_EXIST)
			return cap_errf(err, 0, "network: bridge %s: %s", ENGINE_BRIDGE, nl_geterror(r));
		if ((r = rtnl_link_get_kernel(sk, 0, ENGINE_BRIDGE, &br)) < 0)
			return cap_errf(err, 0, "network: bridge %s: %s", ENGINE_BRIDGE, nl_geterror(r));
	}
	*ifindex = rtnl_link_get_ifindex(br);
	r = add_addr(sk, *ifindex, ENGINE_GATEWAY "/16");
	if (r == 0)
		r = link_up(sk, br, NULL, 0);
	rtnl_link_put(br);
	if (r < 0)
		return cap_errf(err, 0, "network: bridge %s: %s", ENGINE_BRIDGE, nl_geterror(r));
	/* Routing for the containers, and DNAT of ports published on 127.0.0.1 to the bridge. */
	write_proc("/proc/sys/net/ipv4/ip_forward", "1");
	write_proc("/proc/sys/net/ipv4/conf/" ENGINE_BRIDGE "/route_localnet", "1");
	return 0;
}

/* In the container's namespace (a child that setns'd there): eth0 up with ip, lo up, the route. */
static int inside(const char *peer, const char *ip, char *why, size_t whysz)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *l = NULL, *lo = NULL;
	char cidr[32];
	int r;
	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0) {
		snprintf(why, whysz, "netlink socket");
		return -1;
	}
	if ((r = rtnl_link_get_kernel(sk, 0, peer, &l)) < 0 || (r = link_up(sk, l, "eth0", 0)) < 0) {
		snprintf(why, whysz, "eth0: %s", nl_geterror(r));
		return -1;
	}
	int idx = rtnl_link_get_ifindex(l);
	snprintf(cidr, sizeof(cidr), "%s/%d", ip, SUBNET_BITS);
	if ((r = add_addr(sk, idx, cidr)) < 0) {
		snprintf(why, whysz, "eth0 address %s: %s", cidr, nl_geterror(r));
		return -1;
	}
	if (rtnl_link_get_kernel(sk, 0, "lo", &lo) == 0)
		link_up(sk, lo, NULL, 0);
	struct rtnl_route *rt = rtnl_route_alloc();
	struct nl_addr *dst, *gw;
	nl_addr_parse("default", AF_INET, &dst);
	nl_addr_parse(ENGINE_GATEWAY, AF_INET, &gw);
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_dst(rt, dst);
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	rtnl_route_nh_set_gateway(nh, gw);
	rtnl_route_nh_set_ifindex(nh, idx);
	rtnl_route_add_nexthop(rt, nh);
	if ((r = rtnl_route_add(sk, rt, 0)) < 0) {
		snprintf(why, whysz, "default route via %s: %s", ENGINE_GATEWAY, nl_geterror(r));
		return -1;
	}
	return 0;
}

static int configure_inside(pid_t pid, const char *peer, const char *ip, cap_err *err)
{
	char path[64], why[512] = "";
	int p[2];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return cap_errf(err, errno, "network: the container's namespace %s", path);
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(nsfd);
		return cap_errf(err, errno, "network: pipe");
	}
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		int r = setns(nsfd, CLONE_NEWNET) < 0 ? (snprintf(why, sizeof(why), "setns: %s", strerror(errno)), -1)
						      : inside(peer, ip, why, sizeof(why));
		if (r < 0 && write(p[1], why, strlen(why)) < 0)
			_exit(2);
		_exit(r < 0);
	}
	close(p[1]);
	close(nsfd);
	ssize_t n = c > 0 ? read(p[0], why, sizeof(why) - 1) : -1;
	why[n > 0 ? n : 0] = 0;
	close(p[0]);
	int st = 1;
	if (c > 0)
		waitpid(c, &st, 0);
	if (c < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return cap_errf(err, 0, "network: in the container: %s", why[0] ? why : "failed");
	return 0;
}

int engine_net_plumb(const char *id, pid_t pid, const char *ip, const struct engine_port *ports, size_t n,
		     cap_err *err)
{
	char host[IFNAMSIZ], peer[IFNAMSIZ], why[512];
	int br = 0, r;
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0) {
		if (sk)
			nl_socket_free(sk);
		return cap_errf(err, 0, "network: netlink socket");
	}
	host_veth_name(id, host, sizeof(host));
	snprintf(peer, sizeof(peer), "capc%.8s", id);
	if ((r = ensure_bridge(sk, &br, err)) < 0 || (r = nft_ensure_table(err)) < 0)
		goto out;
	/* The peer is made inside the container's namespace (the pid's) straight away. */
	if ((r = rtnl_link_veth_add(sk, host, peer, pid)) < 0) {
		r = cap_errf(err, 0, "network: veth %s: %s", host, nl_geterror(r));
		goto out;
	}
	struct rtnl_link *h = NULL;
	if ((r = rtnl_link_get_kernel(sk, 0, host, &h)) < 0 || (r = link_up(sk, h, NULL, br)) < 0) {
		r = cap_errf(err, 0, "network: veth %s onto %s: %s", host, ENGINE_BRIDGE, nl_geterror(r));
		if (h)
			rtnl_link_put(h);
		goto fail;
	}
	rtnl_link_put(h);
	if ((r = configure_inside(pid, peer, ip, err)) < 0)
		goto fail;
	if ((r = nft_ports("add", ip, ports, n, why, sizeof(why))) < 0) {
		r = cap_errf(err, 0, "network: publishing ports: %s", why);
		goto fail;
	}
	r = 0;
	goto out;
fail:
	engine_net_unplumb(id, ip, NULL, 0);
out:
	nl_socket_free(sk);
	return r;
}

void engine_net_unplumb(const char *id, const char *ip, const struct engine_port *ports, size_t n)
{
	char host[IFNAMSIZ], why[512];
	if (ip && n)
		nft_ports("delete", ip, ports, n, why, sizeof(why));
	host_veth_name(id, host, sizeof(host));
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return;
	struct rtnl_link *h = NULL;
	if (nl_connect(sk, NETLINK_ROUTE) == 0 && rtnl_link_get_kernel(sk, 0, host, &h) == 0) {
		rtnl_link_delete(sk, h);
		rtnl_link_put(h);
	}
	nl_socket_free(sk);
}
