/* Seeds for fuzz_api_http: every route with a good body, Firecracker's getting-started calls,
 * and a few malformed requests, each behind the target's two header bytes. */
#include <stdio.h>
#include <string.h>

/* Each seed: the request head without its end (and without Content-Length), and a body
 * (NULL: the head is the whole request); the generator adds Content-Length and the blank line. */
static const struct { const char *head, *body; } seeds[] = {
	{ "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", NULL },
	{ "PUT /boot-source HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n", "{\"kernel_image_path\": \"/dev/null\", \"boot_args\": \"console=ttyS0 reboot=k\"}" },
	{ "PUT /machine-config HTTP/1.1\r\n", "{\"vcpu_count\": 2, \"mem_size_mib\": 1024, \"smt\": false, \"track_dirty_pages\": true}" },
	{ "PATCH /machine-config HTTP/1.1\r\n", "{\"mem_size_mib\": 128}" },
	{ "GET /machine-config HTTP/1.1\r\n\r\nGET /vm/config HTTP/1.1\r\n\r\n", NULL },
	{ "PUT /drives/rootfs HTTP/1.1\r\n", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/dev/null\", \"is_root_device\": true, \"is_read_only\": true}" },
	{ "PUT /network-interfaces/eth0 HTTP/1.1\r\n", "{\"iface_id\": \"eth0\", \"guest_mac\": \"AA:FC:00:00:00:01\", \"host_dev_name\": \"tap0\"}" },
	{ "PUT /drives/scratch HTTP/1.1\r\n", "{\"drive_id\": \"scratch\", \"path_on_host\": \"/dev/null\", \"is_root_device\": false, \"is_read_only\": true, \"rate_limiter\": {\"bandwidth\": {\"size\": 1048576, \"one_time_burst\": 4096, \"refill_time\": 100}, \"ops\": {\"size\": 100, \"refill_time\": 1000}}}" },
	{ "PUT /network-interfaces/eth1 HTTP/1.1\r\n", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 65536, \"refill_time\": 10}}, \"tx_rate_limiter\": {\"ops\": {\"size\": 0, \"refill_time\": 0}}}" },
	{ "PATCH /drives/scratch HTTP/1.1\r\n", "{\"drive_id\": \"scratch\", \"path_on_host\": \"/dev/zero\", \"rate_limiter\": {\"ops\": {\"size\": 10, \"refill_time\": 100}}}" },
	{ "PATCH /network-interfaces/eth1 HTTP/1.1\r\n", "{\"iface_id\": \"eth1\", \"tx_rate_limiter\": {\"bandwidth\": {\"size\": 1000, \"one_time_burst\": 10, \"refill_time\": 1}}}" },
	{ "PUT /vsock HTTP/1.1\r\n", "{\"guest_cid\": 3, \"uds_path\": \"/tmp/v.sock\"}" },
	{ "PUT /actions HTTP/1.1\r\n", "{\"action_type\": \"InstanceStart\"}" },
	{ "PUT /actions HTTP/1.1\r\n", "{\"action_type\": \"FlushMetrics\"}" },
	{ "PATCH /vm HTTP/1.1\r\n", "{\"state\": \"Paused\"}" },
	{ "PUT /metrics HTTP/1.1\r\n", "{\"metrics_path\": \"/tmp/m.fifo\"}" },
	{ "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n", NULL },
	{ "PUT /snapshot/create HTTP/1.1\r\n", "{\"snapshot_type\": \"Full\", \"snapshot_path\": \"/tmp/s\", \"mem_file_path\": \"/tmp/m\"}" },
	{ "PUT /snapshot/load HTTP/1.1\r\n", "{\"snapshot_path\": \"/tmp/s\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"/tmp/m\"}}" },
	{ "PUT /actions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"act\r\n1c\r\nion_type\": \"InstanceStart\"}\r\n0\r\n\r\n", NULL },
	{ "PUT /boot-source HTTP/1.1\r\nExpect: 100-continue\r\n", "{}" },
	{ "PUT /balloon HTTP/1.1\r\n", "{\"amount_mib\": 16, \"deflate_on_oom\": false, \"stats_polling_interval_s\": 1}" },
	{ "PATCH /balloon HTTP/1.1\r\n", "{\"amount_mib\": 8}" },
	{ "GET /balloon/statistics HTTP/1.1\r\n\r\nGET /balloon HTTP/1.1\r\n\r\n", NULL },
	{ "GARBAGE\r\n\r\n", NULL },
	{ "DELETE /vm HTTP/1.0\r\n\r\n", NULL },
};

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/seed-%02zu", argv[1], i);
		FILE *f = fopen(path, "wb");
		if (!f)
			return 1;
		/* byte 0: booted or not; byte 1: chunk size */
		fputc((int)(i & 1), f);
		fputc((int)(i * 7 % 5), f);
		if (seeds[i].body)
			fprintf(f, "%s\r\nContent-Length: %zu\r\n\r\n%s", seeds[i].head, strlen(seeds[i].body), seeds[i].body);
		else
			fputs(seeds[i].head, f);
		if (fclose(f))
			return 1;
	}
	return 0;
}
