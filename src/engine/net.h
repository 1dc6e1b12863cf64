/* The engine's bridge network (capsule run --network bridge, -p):
 *
 *  - one Linux bridge, capsule0, with 10.88.0.1/16 (made when the first container needs it);
 *  - per container a veth pair: the host end (cap<8 hex of the id>) on the bridge, the other end
 *    moved into the container's network namespace as eth0 with the next free address of the
 *    subnet and a default route through the bridge; links, addresses and routes are made over
 *    netlink with libnl-route;
 *  - leases in ROOT/network.json under ROOT/network.lock (released when the container ends);
 *  - nftables table "ip capsule": outbound NAT (masquerade) for the subnet, forwarding to and
 *    from the bridge, and published ports as elements of two DNAT maps (any host address, or
 *    one address), so that adding and removing a container's ports is one element each. nft
 *    is run as a command (Debian ships no static libnftables for the statically linked capsule).
 *
 * The plumbing runs as the container's createRuntime hook (capsule container net-hook), after
 * the runtime made the namespace and before the program starts, so that foreground and detached
 * containers get it alike; a failure there fails the create and leaves nothing. */
#ifndef CAPSULE_ENGINE_NET_H
#define CAPSULE_ENGINE_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "../image/store.h"
#include "../lib/error.h"

#define ENGINE_BRIDGE "capsule0"
#define ENGINE_SUBNET "10.88.0.0/16"
#define ENGINE_GATEWAY "10.88.0.1"
#define ENGINE_NFT_TABLE "capsule"

struct engine_port {
	char host_ip[16];   /* "" = every host address */
	uint16_t host_port, ctr_port;
};

/* "[IP:]HOSTPORT:CTRPORT[/tcp]". */
int engine_parse_port(const char *spec, struct engine_port *p, cap_err *err);

/* Take the next free address for container id: "10.88.0.N" into ip. */
int engine_net_lease(const struct store *s, const char *id, char ip[16], cap_err *err);
void engine_net_release(const struct store *s, const char *id);

/* In the hook: the veth pair into the namespace of pid, the address, routes, NAT, ports. */
int engine_net_plumb(const char *id, pid_t pid, const char *ip, const struct engine_port *ports, size_t n,
		     cap_err *err);
/* The container's ports out of the DNAT maps, its host veth end gone (idempotent). */
void engine_net_unplumb(const char *id, const char *ip, const struct engine_port *ports, size_t n);

/* ports as stored in instance.json ("ports": [{"host_ip","host_port","ctr_port"}]). */
json_t *engine_ports_json(const struct engine_port *p, size_t n);
int engine_ports_from_json(const json_t *arr, struct engine_port *p, size_t max, size_t *n);

#endif
