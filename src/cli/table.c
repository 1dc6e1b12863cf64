/* THE command table: every `capsule <noun> <verb>`, its handler, help and options.
 * --help, `capsule completion bash` and the man pages are generated from these rows.
 *
 * To add a command: put its handler in its own file (src/cli/<noun>.c or <noun>_<verb>.c),
 * declare it in commands.h, and add one row below in its noun's block (a new noun also gets
 * a cli_nouns[] entry). Options: { name, short, kind, ARG, help, choices, completion }. */
#include "../image/store.h"
#include "../oci/oci.h"
#include "../vmm/api/api.h"
#include "../vmm/config.h"
#include "../vmm/sandbox/jail.h"
#include "cli.h"
#include "commands.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define OPTS(...) ((const struct cli_opt[]){ __VA_ARGS__, { 0 } })
#define FLAG(name, shrt, help) { name, shrt, CLI_FLAG, NULL, help, NULL, CLI_COMPLETE_NONE }
#define VALUE(name, shrt, arg, help) { name, shrt, CLI_VALUE, arg, help, NULL, CLI_COMPLETE_NONE }
#define PATHV(name, shrt, arg, help) { name, shrt, CLI_VALUE, arg, help, NULL, CLI_COMPLETE_FILE }
#define DIRV(name, shrt, arg, help) { name, shrt, CLI_VALUE, arg, help, NULL, CLI_COMPLETE_DIR }
#define INTV(name, shrt, arg, help) { name, shrt, CLI_INT, arg, help, NULL, CLI_COMPLETE_NONE }
#define CHOICE(name, shrt, choices, help) { name, shrt, CLI_VALUE, choices, help, choices, CLI_COMPLETE_NONE }

const struct cli_noun cli_nouns[] = {
	{ .name = "vm", .summary = "micro-VMs on KVM" },
	{ .name = "oci",
	  .summary = "the OCI container runtime (runc-compatible; also invoked as capsule-runtime)",
	  .opts = OPTS(DIRV("root", 0, "DIR", "state root (default " OCI_DEFAULT_ROOT ")"),
		       PATHV("log", 'l', "FILE", "append errors to FILE"),
		       CHOICE("log-format", 0, "text|json", "format of the --log lines (default text)"),
		       FLAG("debug", 0, "verbose diagnostics on stderr"),
		       FLAG("systemd-cgroup", 0, "cgroupsPath is slice:prefix:name (mapped to cgroupfs)"),
		       { "rootless", 0, CLI_OPTIONAL, "true|false|auto", "accepted for runc compatibility",
			 "true|false|auto", CLI_COMPLETE_NONE },
		       PATHV("criu", 0, "PATH", "accepted for runc compatibility (no checkpointing)"),
		       FLAG("version", 'v', "print the version and the runtime-spec version")),
	  .details = "Invoked as capsule-runtime (a symlink to capsule), the binary is this runtime with "
		     "runc's command line, as podman and containerd call it: capsule-runtime [options] "
		     "<command> ... is capsule oci [options] <command> ...",
	  .prepare = oci_prepare,
	  .finish = oci_finish },
	{ .name = "image",
	  .summary = "the local image store: import, export, list, tag and remove images",
	  .opts = OPTS(DIRV("root", 0, "DIR", "the image store (default " STORE_DEFAULT_ROOT
					   ", or $" STORE_ROOT_ENV "; also capsule --root DIR)")),
	  .details = "Images live in a content-addressed store (docs/image-store.md): blobs named by their "
		     "sha256, every digest verified on the way in. Commands that read or add share the store; "
		     "rm and prune take it alone, so concurrent commands are safe.",
	  .prepare = cli_store_prepare,
	  .top_verbs = true,
	  .top_only = "build|pull|push|login|logout" },
	{ .name = "container",
	  .summary = "managed containers from the store's images: run, ps, logs, exec, stop, rm",
	  .opts = OPTS(DIRV("root", 0, "DIR", "the image store (default " STORE_DEFAULT_ROOT
					   ", or $" STORE_ROOT_ENV "; also capsule --root DIR)")),
	  .details = "Each verb also works without the noun, as in podman: capsule run, capsule ps, capsule logs, "
		     "capsule exec, capsule stop, capsule kill, capsule rm, capsule wait, capsule inspect is "
		     "capsule container inspect. Containers live beside the images (docs/engine.md): a record, "
		     "a bundle whose root is an overlay of the image's layers under the container's own upper "
		     "layer, and the output of detached ones in a log that a monitor process writes.",
	  .prepare = cli_store_prepare,
	  .top_verbs = true },
	{ .name = "completion", .summary = "shell completion generated from the command table" },
	{ 0 },
};

#define OCI_CREATE_OPTS                                                                              \
	DIRV("bundle", 'b', "DIR", "the bundle (config.json and rootfs; default .)"),                \
	PATHV("pid-file", 0, "FILE", "write the container's pid to FILE"),                          \
	PATHV("console-socket", 0, "SOCKET", "send the pty master of a terminal container to SOCKET"), \
	INTV("preserve-fds", 0, "N", "pass fds 3 .. 3+N-1 on to the container"),                     \
	FLAG("no-pivot", 0, "chroot-style root change instead of pivot_root (for ramdisks)"),        \
	FLAG("no-new-keyring", 0, "keep the caller's session keyring"),                              \
	FLAG("detach", 'd', "return once the container runs"),                                       \
	FLAG("keep", 0, "accepted for runc compatibility"),                                          \
	FLAG("no-subreaper", 0, "accepted for runc compatibility"),                                  \
	PATHV("notify-socket", 0, "SOCKET", "accepted for runc compatibility")

#define SNAPSHOT_OPT                                                                                 \
	VALUE("snapshot", 0, "after=MS|on=usr1,state=FILE,mem=FILE[,diff]",                          \
	      "after MS ms of running (or on SIGUSR1), pause, write a snapshot (diff: only the pages "     \
	      "dirtied since the previous one), resume; the run ends after the last one (repeatable, in " \
	      "order)")

#define TLS_VERIFY_OPT                                                                               \
	CHOICE("tls-verify", 0, "true|false",                                                        \
	       "false: plain HTTP; true: HTTPS, verified, even on loopback (default: HTTPS, verified, "  \
	       "but plain HTTP on loopback; $SSL_CERT_FILE names another CA file)")
#define AUTHFILE_OPT                                                                                 \
	PATHV("authfile", 0, "FILE", "the credentials (default $REGISTRY_AUTH_FILE, else ROOT/auth.json)")

#define FORMAT_OPT CHOICE("format", 'f', "table|json", "output format (default table)")

const struct cli_cmd cli_commands[] = {
	/* vm */
	{ "vm", "run", cli_vm_run, "boot a kernel in a new micro-VM and run it until it powers off", NULL,
	  OPTS(PATHV("kernel", 0, "PATH", "kernel image: ELF vmlinux, bzImage or a Capsule test guest (required)"),
	       PATHV("initrd", 0, "PATH", "initial ramdisk"),
	       VALUE("cmdline", 0, "STR", "kernel command line (default \"console=ttyS0\")"),
	       VALUE("cpus", 0, "N", "vCPUs (default 1)"),
	       VALUE("memory", 0, "SIZE", "guest RAM: MiB, or with a unit (512M, 2G; default 256, minimum "
					  STR(VM_MIN_MEMORY_MIB) " MiB)"),
	       VALUE("console", 0, "stdio|none|file:PATH",
		     "where the serial console goes (default stdio; on a terminal it is interactive: "
		     "Ctrl-A x quits)"),
	       FLAG("boot-timer", 0, "print boot and start times when the guest writes 123 to 0xd0000000"),
	       CHOICE("bzimage-decompress", 0, "host|guest",
		      "decompress a bzImage's payload on the host (default) or in the guest"),
	       FLAG("pvh", 0, "enter an ELF kernel through its PVH entry point"),
	       PATHV("disk", 0, "PATH[,ro][,id=NAME][,bw=RATE][,iops=RATE]",
		     "a virtio-blk disk (repeatable); bw=SIZE[/TIME] and iops=N[/TIME] limit it (a token "
		     "bucket of SIZE bytes or N requests refilled every TIME, default 1s, e.g. bw=10M, "
		     "iops=100/100ms), bw-burst= and iops-burst= add a one-time burst"),
	       PATHV("root-disk", 0, "PATH", "a virtio-blk disk that is also the root (adds root=/dev/vda)"),
	       VALUE("net", 0, "tap=NAME[,mac=MAC][,rx-bw=RATE][,tx-bw=RATE]",
		     "a virtio-net device on a TAP interface (repeatable); rx-bw=, tx-bw= (bytes), rx-ops=, "
		     "tx-ops= (frames) and their -burst limit each direction as --disk's bw= and iops= do"),
	       VALUE("vsock", 0, "cid=N,uds=PATH", "a virtio-vsock device bridged to Unix sockets at PATH"),
	       FLAG("rng", 0, "a virtio-rng device"),
	       FLAG("balloon", 0, "a virtio-balloon device"),
	       SNAPSHOT_OPT,
	       /* a VALUE, not a CHOICE: vmm_seccomp_parse_mode's message names the value and the choices */
	       VALUE("seccomp", 0, "default|log|none",
		     "per-thread syscall filters (default: a refused syscall kills the VMM with SIGSYS; "
		     "log: allowed and logged by the kernel; none: off)"),
	       FLAG("debug", 0, "verbose diagnostics on stderr"),
	       FLAG("jail", 0, "run the VMM locked in a jail (needs --id): see JAIL"),
	       VALUE("id", 0, "NAME", "the VM's name (letters, digits, '_', '-'): its API socket is " API_RUN_DIR
				      "/NAME.sock (unless --api-sock or --jail); names its jail"),
	       PATHV("api-sock", 0, "PATH", "serve the HTTP API (docs/api.md) on a Unix socket at PATH"),
	       PATHV("config-file", 0, "FILE", "the VM in Firecracker's config-file JSON (docs/api.md), over the options"),
	       VALUE("uid", 0, "UID", "jail: the unprivileged uid the VMM runs as (default 65534)"),
	       VALUE("gid", 0, "GID", "jail: the unprivileged gid the VMM runs as (default 65534)"),
	       DIRV("chroot-base", 0, "DIR", "jail: where the jail directories go (default " VM_JAIL_DEFAULT_BASE ")"),
	       PATHV("netns", 0, "PATH", "jail: a network namespace to join (/var/run/netns/NAME)"),
	       VALUE("cgroup", 0, "KEY=VALUE", "jail: a limit in the VM's cgroup, cpu.cfs_quota_us=50000 (repeatable)")),
	  0, 0,
	  "Boots PATH (an ELF vmlinux, a bzImage or a Capsule test guest) and runs it until the guest powers "
	  "off, reboots or fails. Exits 0 when the guest powered off or rebooted, with a Capsule test "
	  "guest's own status when it exits through the test port, else with one of the codes in EXIT "
	  "STATUS. With --api-sock or --id the VM also serves Firecracker's HTTP API (docs/api.md); without "
	  "--kernel it then waits to be configured and started through it (PUT /boot-source, PUT /actions "
	  "InstanceStart).\n\nJAIL: with --jail the VMM, before it opens the guest, moves into new mount, PID and IPC "
	  "namespaces (and the --netns one), into the cgroup /capsule-vm/ID of every hierarchy (with the "
	  "--cgroup limits), pivots into CHROOT_BASE/ID/root, which holds only the kernel, initrd and disks "
	  "(bind-mounted, read-only unless a disk is rw) and /dev/kvm, /dev/urandom and /dev/net/tun, closes "
	  "every other file, and drops to --uid/--gid with no capabilities and no_new_privs. The uid needs "
	  "read access to the kernel and initrd and write access to rw disks. A TAP that does not exist is "
	  "made for the uid and removed afterwards; an existing one must be the uid's (ip tuntap add NAME mode "
	  "tap user UID). The jail is removed when the VM ends." },
	{ "vm", "ls", cli_vm_ls, "list the running VMs that have an API socket in " API_RUN_DIR, NULL,
	  OPTS(FORMAT_OPT), 0, 0,
	  "Lists every VM started with --id NAME (its socket is " API_RUN_DIR "/NAME.sock) with its state, vCPUs, "
	  "memory, uptime and process id." },
	{ "vm", "pause", cli_vm_pause, "pause a running VM (its vCPUs stop; PATCH /vm Paused)", "NAME", NULL, 1, 1,
	  "NAME is the VM's --id, or the path of its API socket." },
	{ "vm", "snapshot", cli_vm_snapshot, "snapshot a running VM through its API (pause, write, resume)", "NAME",
	  OPTS(PATHV("state", 0, "FILE", "the snapshot's state file (required)"),
	       PATHV("mem", 0, "FILE", "the guest memory file (required)"),
	       FLAG("diff", 0, "only the pages dirtied since the last snapshot (the VM needs track_dirty_pages)"),
	       FLAG("paused", 0, "leave the VM paused afterwards")),
	  1, 1,
	  "Pauses the VM if it runs, asks its VMM for a snapshot (PUT /snapshot/create: docs/api.md), and "
	  "resumes it unless --paused or it was paused before; it is resumed also when the snapshot fails. "
	  "Relative paths are made absolute first. NAME is the VM's --id, or the path of its API socket." },
	{ "vm", "resume", cli_vm_resume, "resume a paused VM (PATCH /vm Resumed)", "NAME", NULL, 1, 1,
	  "NAME is the VM's --id, or the path of its API socket." },
	{ "vm", "status", cli_vm_status, "show a VM's state, vCPUs, memory, uptime and process", "NAME",
	  OPTS(FORMAT_OPT), 1, 1, "NAME is the VM's --id, or the path of its API socket." },
	{ "vm", "stop", cli_vm_stop, "stop a VM and wait for its process to end", "NAME", NULL, 1, 1,
	  "Sends the VM's process SIGTERM (as Ctrl-C would), which stops the VM and removes its socket, and "
	  "waits up to 10 s for it to exit. NAME is the VM's --id, or the path of its API socket." },
	{ "vm", "restore", cli_vm_restore, "restore a micro-VM from a snapshot in this process and run it", NULL,
	  OPTS(PATHV("state", 0, "FILE", "the snapshot's state file (required)"),
	       PATHV("mem", 0, "FILE", "the snapshot's memory file, mapped copy-on-write (required)"),
	       VALUE("console", 0, "stdio|none|file:PATH", "where the serial console goes (default stdio)"),
	       FLAG("boot-timer", 0, "print boot and start times when the guest writes 123 to 0xd0000000"),
	       FLAG("paused", 0, "do not resume the guest (with --snapshot, or to resume it through the API)"),
	       VALUE("id", 0, "NAME", "name the VM: its API socket is " API_RUN_DIR "/NAME.sock (capsule vm resume NAME)"),
	       PATHV("api-sock", 0, "PATH", "serve the HTTP API (docs/api.md) on a Unix socket at PATH"),
	       SNAPSHOT_OPT,
	       FLAG("debug", 0, "verbose diagnostics on stderr")),
	  0, 0,
	  "Builds the snapshot's machine (vCPUs, memory, the same devices: disks reopened by path, TAPs by "
	  "name), maps the memory file MAP_PRIVATE (pages come in on first touch; the file is never "
	  "written), puts back every vCPU, the interrupt controllers, the PIT, the clock and every device's "
	  "state, and runs the guest from where it was, until it ends as with vm run. A truncated, "
	  "corrupted, wrong-version or wrong-host snapshot is refused with one line and nothing runs. A "
	  "diff snapshot's state restores with its base memory file once the diffs are merged onto it. "
	  "The format and the rules: docs/snapshot.md." },
	{ "vm", "migrate", cli_vm_migrate, "live-migrate a running VM to a capsule vm receive", "NAME",
	  OPTS(VALUE("to", 0, "unix:PATH|tcp:HOST:PORT", "where capsule vm receive listens (required)"),
	       INTV("max-downtime", 0, "MS", "pause the guest only when what is left fits in MS (default 20)"),
	       FORMAT_OPT),
	  1, 1,
	  "Copies the guest's memory while it runs, then what it dirtied meanwhile, round after round (KVM's "
	  "dirty log), until the rest fits the downtime target at the speed measured; then pauses it, sends "
	  "the rest and every vCPU's and device's state, and waits until the destination runs the guest. "
	  "Only then does the source VMM exit (status 0). A connection that breaks, a destination that "
	  "refuses or does not answer: the source's VM goes on as it was. Prints the rounds, bytes, total "
	  "time and downtime." },
	{ "vm", "receive", cli_vm_receive, "wait for a live migration and run the VM it brings", NULL,
	  OPTS(VALUE("listen", 0, "unix:PATH|tcp:HOST:PORT", "where to wait for capsule vm migrate (required)"),
	       VALUE("id", 0, "NAME", "the VM's name here (its API socket in " API_RUN_DIR ")"),
	       PATHV("api-sock", 0, "PATH", "serve the HTTP API on a Unix socket at PATH"),
	       VALUE("console", 0, "stdio|none|file:PATH", "where the serial console goes (default stdio)"),
	       FLAG("paused", 0, "keep the guest paused once it arrives (the API resumes it)"),
	       PATHV("vsock-uds", 0, "PATH", "the vsock's Unix socket here (default the source's path: on one host, give another)"),
	       FLAG("boot-timer", 0, "print the restore time"),
	       FLAG("debug", 0, "verbose diagnostics on stderr")),
	  0, 0,
	  "Accepts one migration stream, checks every record (a hostile stream is refused with one line), "
	  "restores it as a snapshot (the same devices: disks reopened by path, TAPs by name), tells the "
	  "source, and runs the guest as vm run does." },
	{ "vm", "snapshot-merge", cli_vm_snapshot_merge, "fold diff snapshots' memory files onto a base memory file",
	  "BASE DIFF...", NULL, 2, CLI_ANY,
	  "Copies the pages each DIFF memory file holds (a diff snapshot writes only the pages dirtied since "
	  "the snapshot before it, as a sparse file) onto BASE, in the order given, in place. BASE then "
	  "restores with the last diff's state file. Every DIFF is checked (same size as BASE) before BASE "
	  "is written." },
	{ "vm", "extract-kernel", cli_vm_extract_kernel, "write the ELF vmlinux inside a bzImage to a file",
	  "BZIMAGE OUT", NULL, 2, 2,
	  "Decompresses the kernel payload of BZIMAGE (gzip, xz, lzma, lz4, zstd or bzip2) and writes the "
	  "ELF vmlinux inside it to OUT." },
	{ "vm", "seccomp-filters", cli_vm_seccomp_filters, "print the syscalls each VMM thread kind may make", NULL,
	  OPTS(VALUE("thread", 0, "KIND", "only this thread kind (main, vcpu, io, blk, console)")), 0, 0,
	  "Prints the allow-list (syscalls and checked arguments, with what needs each) of every kind of "
	  "VMM thread, or of one. 'capsule vm run' builds its filters from the same table, so what is "
	  "printed is what is enforced (docs/security.md)." },

	/* oci: the runc command line (argv as podman and containerd send it) */
	{ "oci", "create", cli_oci_create, "create a container, stopped before its program", "ID",
	  OPTS(OCI_CREATE_OPTS), 0, CLI_ANY, NULL },
	{ "oci", "start", cli_oci_start, "run the program of a created container", "ID", NULL, 0, CLI_ANY, NULL },
	{ "oci", "run", cli_oci_run, "create and start a container, wait for it, delete it", "ID",
	  OPTS(OCI_CREATE_OPTS), 0, CLI_ANY,
	  "Without --detach, exits with the container process's status (128+N when killed by signal N)." },
	{ "oci", "state", cli_oci_state, "print the runtime-spec state JSON of a container", "ID", NULL, 0,
	  CLI_ANY, NULL },
	{ "oci", "kill", cli_oci_kill, "send a signal (name or number; default TERM) to a container", "ID [SIGNAL]",
	  OPTS(FLAG("all", 'a', "signal every process in the container, not only its init")), 0, CLI_ANY, NULL },
	{ "oci", "delete", cli_oci_delete, "remove a stopped (or, forced, any) container", "ID",
	  OPTS(FLAG("force", 'f', "kill it first, whatever its state")), 0, CLI_ANY, NULL },
	{ "oci", "exec", cli_oci_exec, "run another process in a running container", "ID [COMMAND [ARG...]]",
	  OPTS(PATHV("process", 'p', "FILE", "the process as a runtime-spec process JSON"),
	       FLAG("detach", 'd', "return once the process runs"),
	       PATHV("pid-file", 0, "FILE", "write the process's pid to FILE"),
	       FLAG("tty", 't', "give the process a pty"),
	       VALUE("cwd", 0, "DIR", "working directory in the container"),
	       VALUE("env", 'e', "KEY=VALUE", "an environment variable (repeatable)"),
	       VALUE("user", 'u', "UID[:GID]", "user and group to run as"),
	       PATHV("console-socket", 0, "SOCKET", "send the pty master to SOCKET"),
	       VALUE("cap", 'c', "CAP", "add a capability (repeatable)"),
	       FLAG("no-new-privs", 0, "set no_new_privs"),
	       INTV("preserve-fds", 0, "N", "pass fds 3 .. 3+N-1 on to the process"),
	       VALUE("process-label", 0, "LABEL", "accepted for runc compatibility"),
	       VALUE("apparmor", 0, "PROFILE", "accepted for runc compatibility"),
	       VALUE("cgroup", 0, "PATH", "accepted for runc compatibility")),
	  0, CLI_ANY,
	  "Without --detach, exits with the process's status. Give --process FILE or a COMMAND." },
	{ "oci", "list", cli_oci_list, "list the containers under --root", NULL,
	  OPTS(FORMAT_OPT, FLAG("quiet", 'q', "only the ids")), 0, CLI_ANY, NULL },
	{ "oci", "ps", cli_oci_ps, "list the pids in a container", "ID", OPTS(FORMAT_OPT), 0, CLI_ANY, NULL },
	{ "oci", "pause", cli_oci_pause, "freeze a container's cgroup", "ID", NULL, 0, CLI_ANY, NULL },
	{ "oci", "resume", cli_oci_resume, "thaw a paused container's cgroup", "ID", NULL, 0, CLI_ANY, NULL },
	{ "oci", "update", cli_oci_update, "change a running container's resource limits", "ID",
	  OPTS(PATHV("resources", 'r', "FILE", "runtime-spec linux.resources JSON (- for stdin)"),
	       VALUE("memory", 'm', "SIZE", "memory limit (bytes, or with a unit: 64M, 2G)"),
	       VALUE("memory-swap", 0, "SIZE", "memory + swap limit"),
	       VALUE("pids-limit", 0, "N", "maximum number of processes"),
	       VALUE("cpu-shares", 0, "N", "CPU shares (relative weight)"),
	       VALUE("cpu-quota", 0, "N", "CPU time in microseconds per --cpu-period"),
	       VALUE("cpu-period", 0, "N", "CPU quota period in microseconds"),
	       VALUE("cpuset-cpus", 0, "LIST", "CPUs the container may use (0-3,5)"),
	       VALUE("cpuset-mems", 0, "LIST", "memory nodes the container may use")),
	  0, CLI_ANY, NULL },
	{ "oci", "events", cli_oci_events, "print resource usage (JSON) and OOM events", "ID",
	  OPTS(FLAG("stats", 0, "print one stats event and exit"),
	       VALUE("interval", 0, "DURATION", "time between stats events (default 5s)")),
	  0, CLI_ANY, NULL },
	{ "oci", "features", cli_oci_features, "print what this runtime supports (JSON)", NULL, NULL, 0, CLI_ANY,
	  NULL },
	{ "oci", "spec", cli_oci_spec, "write a default config.json", NULL,
	  OPTS(DIRV("bundle", 'b', "DIR", "where to write it (default .); an existing one is kept"),
	       FLAG("rootless", 0, "a config for an unprivileged user")),
	  0, CLI_ANY, NULL },

	/* image */
	{ "image", "import", cli_image_import, "import an OCI layout, a docker-archive or a root file system tarball",
	  "PATH [NAME[:TAG]]",
	  OPTS(CHOICE("type", 't', "auto|oci|docker-archive|rootfs", "what PATH holds (default auto: detected)")),
	  1, 2,
	  "PATH is an OCI image layout (a directory or a tar), a docker-archive (podman save, docker save; "
	  "a tar or its unpacked directory) or a plain root file system tarball (plain, gzip, zstd, xz or "
	  "bzip2). Every blob's digest and every layer's diff id is checked; a mismatch, or a layer entry "
	  "that climbs out of the root, refuses the whole import and names nothing. NAME tags the image "
	  "(else the names the archive carries). Prints the id (manifest digest) of each image imported." },
	{ "image", "pull", cli_image_pull, "pull an image from a registry (OCI distribution API v2)",
	  "[HOST[:PORT]/]REPO[:TAG][@DIGEST]",
	  OPTS(TLS_VERIFY_OPT, AUTHFILE_OPT),
	  1, 1,
	  "Manifests, manifest lists (the linux manifest of this host's architecture is picked), the config "
	  "and every layer (three at a time), each verified against its digest; a broken layer download "
	  "resumes where it stopped. A registry that asks for a login gets the credentials capsule login stored "
	  "(basic auth, or a bearer token from its token service; an anonymous token without a login). Nothing is "
	  "named until the whole image is in. Prints the image id (its manifest digest)." },
	{ "image", "push", cli_image_push, "push an image to a registry", "IMAGE [[HOST[:PORT]/]REPO[:TAG]]",
	  OPTS(TLS_VERIFY_OPT, AUTHFILE_OPT),
	  1, 2,
	  "Uploads the blobs the registry lacks, then the manifest under the tag (IMAGE itself when no "
	  "destination is given). Prints the manifest digest, which the registry confirmed." },
	{ "image", "login", cli_image_login, "log in to a registry: check the credentials and keep them", "REGISTRY",
	  OPTS(VALUE("username", 'u', "USER", "the user name (default: asked on the terminal)"),
	       VALUE("password", 'p', "PASSWORD", "the password (visible to other users: prefer --password-stdin)"),
	       FLAG("password-stdin", 0, "read the password from stdin"), TLS_VERIFY_OPT, AUTHFILE_OPT),
	  1, 1,
	  "REGISTRY is HOST[:PORT] (docker.io for Docker Hub). The credentials are checked with GET /v2/ (basic "
	  "auth, or a token from the registry's token service) and stored in the auth file (containers-auth.json "
	  "format, as podman's, mode 0600) for pull, push and build. Prints Login Succeeded!" },
	{ "image", "logout", cli_image_logout, "forget the credentials of a registry", "[REGISTRY]",
	  OPTS(FLAG("all", 'a', "of every registry"), AUTHFILE_OPT), 0, 1, NULL },
	{ "image", "export", cli_image_export, "write an image as an OCI layout or a docker-archive", "IMAGE PATH",
	  OPTS(CHOICE("type", 't', "oci|docker-archive", "the format (default oci)")), 2, 2,
	  "An OCI layout is a directory, or a tar when PATH ends in .tar; a docker-archive is a tar that "
	  "podman load and docker load read. PATH must not exist; it appears only when complete." },
	{ "image", "unpack", cli_image_unpack, "flatten an image's layers into a directory", "IMAGE DIR", NULL, 2, 2,
	  "Applies the layers in order (whiteouts delete what they name) into DIR, which must be missing "
	  "or empty." },
	{ "image", "build", cli_image_build, "build an image from a recipe (Capsulefile or Dockerfile) and a context",
	  "CONTEXT",
	  OPTS(PATHV("file", 'f', "FILE", "the recipe (default CONTEXT/Capsulefile, else CONTEXT/Dockerfile)"),
	       VALUE("tag", 't', "NAME[:TAG]", "name the image"),
	       VALUE("build-arg", 0, "KEY=VALUE", "a value for an ARG of the recipe (repeatable)"),
	       FLAG("no-cache", 0, "run every step again"), FLAG("quiet", 'q', "no step lines, only the id"),
	       TLS_VERIFY_OPT, AUTHFILE_OPT),
	  1, 1,
	  "Dockerfile syntax: FROM (an image of the store, pulled when the store lacks it, an earlier stage, or scratch; AS NAME), RUN, COPY "
	  "(--chown, --from=STAGE), ADD (local tar archives are unpacked), ENV, ARG, WORKDIR, USER, ENTRYPOINT, CMD, "
	  "LABEL, EXPOSE, VOLUME. RUN runs through the runtime library; each RUN, COPY and ADD is a layer, cached: "
	  "a rebuild reuses every step whose instruction, config and sources did not change. .capsuleignore (or "
	  ".dockerignore) in CONTEXT leaves files out. Prints the image id. A bad line is FILE:LINE: reason." },
	{ "image", "ls", cli_image_ls, "list the images", NULL,
	  OPTS(FORMAT_OPT, FLAG("quiet", 'q', "only the short ids")), 0, 0, NULL },
	{ "image", "inspect", cli_image_inspect, "print images as JSON: id, names, manifest, config", "IMAGE...",
	  NULL, 1, CLI_ANY,
	  "IMAGE is a NAME[:TAG] (:latest when left out), an id or a unique prefix of one (4 hex digits at "
	  "least)." },
	{ "image", "rm", cli_image_rm, "remove names, or images, and the blobs only they used", "IMAGE...", NULL, 1,
	  CLI_ANY,
	  "A name removes that name; an id, or an image's last name, removes the image. Nothing is changed "
	  "when one IMAGE is unknown." },
	{ "image", "tag", cli_image_tag, "give an image more names", "IMAGE NAME[:TAG]...", NULL, 2, CLI_ANY,
	  "A name another image had moves to this one." },
	{ "image", "prune", cli_image_prune,
	  "remove blobs, unpacked layers and temporary files no image uses", NULL, OPTS(FORMAT_OPT), 0, 0,
	  "What an interrupted import or pull left behind goes too." },

	/* container (and the same verbs at the top: capsule run ...) */
	{ "container", "run", cli_container_run, "run a command in a new container from an image",
	  "IMAGE [COMMAND [ARG...]]",
	  OPTS(FLAG("detach", 'd', "run in the background and print the container's id"),
	       FLAG("rm", 0, "remove the container when it exits"),
	       FLAG("tty", 't', "give the process a terminal"),
	       FLAG("interactive", 'i', "keep stdin open (the foreground container reads the caller's stdin)"),
	       VALUE("name", 0, "NAME", "the container's name (default capsule-<id>)"),
	       VALUE("env", 'e', "KEY[=VALUE]", "an environment variable; KEY alone takes the caller's (repeatable)"),
	       VALUE("env-file", 0, "FILE",
		     "KEY=VALUE lines (KEY alone: the caller's value; # comments); -e wins (repeatable)"),
	       VALUE("volume", 'v', "HOST:CTR[:ro]", "bind-mount a host path into the container (repeatable)"),
	       VALUE("workdir", 'w', "DIR", "working directory (default the image's, else /)"),
	       VALUE("user", 'u', "USER[:GROUP]", "user and group, names or numbers (default the image's)"),
	       VALUE("entrypoint", 0, "CMD", "replace the image's entrypoint (\"\" for none)"),
	       VALUE("hostname", 0, "NAME", "the container's host name (default its short id)"),
	       VALUE("memory", 'm', "SIZE", "memory limit (64m, 1g)"),
	       VALUE("cpus", 0, "N", "CPU limit in CPUs (0.5, 2)"),
	       VALUE("pids-limit", 0, "N", "maximum number of processes"),
	       CHOICE("network", 0, "none|host|bridge",
		      "none: its own network namespace with only lo (default without -p); host: the host's; "
		      "bridge: an address on the capsule0 bridge, outbound NAT (default with -p)"),
	       VALUE("publish", 'p', "[IP:]HOSTPORT:PORT", "publish a container's TCP port on the host (bridge; repeatable)")),
	  1, CLI_ANY,
	  "The image's config gives the command (Entrypoint + Cmd; COMMAND replaces Cmd), the environment "
	  "(-e adds or replaces), the working directory and the user, as the OCI image-spec's conversion says. "
	  "In the foreground capsule exits with the container's status; with -d a monitor keeps its output in "
	  "a log (capsule logs) and records its exit status. The container runs with docker's default "
	  "capabilities. The bridge network is docs/engine.md's: 10.88.0.0/16 on capsule0, NAT by nftables." },
	{ "container", "ps", cli_container_ps, "list containers (running ones; -a all)", NULL,
	  OPTS(FLAG("all", 'a', "also created and exited ones"), FLAG("quiet", 'q', "only the short ids"), FORMAT_OPT),
	  0, 0, "STATUS is what the runtime says, not only what was recorded: a container whose monitor died "
		"shows as running while it runs and as exited (unknown) once it is gone." },
	{ "container", "logs", cli_container_logs, "print a detached container's output", "CONTAINER",
	  OPTS(FLAG("follow", 'f', "keep printing until the container exits"),
	       VALUE("tail", 0, "N", "only the last N lines (default all)")),
	  1, 1, "Its stdout goes to stdout, its stderr to stderr." },
	{ "container", "exec", cli_container_exec, "run another command in a running container",
	  "CONTAINER COMMAND [ARG...]",
	  OPTS(FLAG("detach", 'd', "return once it runs"), FLAG("tty", 't', "give it a terminal"),
	       FLAG("interactive", 'i', "keep stdin open"),
	       VALUE("env", 'e', "KEY=VALUE", "an environment variable (repeatable)"),
	       VALUE("workdir", 'w', "DIR", "working directory"), VALUE("user", 'u', "UID[:GID]", "user and group")),
	  2, CLI_ANY, "Exits with the command's status." },
	{ "container", "stop", cli_container_stop, "stop containers: SIGTERM, then SIGKILL after a grace time",
	  "CONTAINER...", OPTS(INTV("time", 't', "S", "seconds to wait before SIGKILL (default 10)")), 1, CLI_ANY,
	  NULL },
	{ "container", "kill", cli_container_kill, "send a signal to a container's main process", "CONTAINER",
	  OPTS(VALUE("signal", 's', "SIG", "the signal (default KILL)")), 1, 1, NULL },
	{ "container", "rm", cli_container_rm, "remove containers", "CONTAINER...",
	  OPTS(FLAG("force", 'f', "kill a running one first")), 1, CLI_ANY,
	  "Removes its record, its writable layer and its log; a running container needs -f." },
	{ "container", "inspect", cli_container_inspect, "print containers' records as JSON", "CONTAINER...", NULL, 1,
	  CLI_ANY, NULL },
	{ "container", "wait", cli_container_wait, "wait for a container to exit and print its exit status",
	  "CONTAINER", NULL, 1, 1, "Prints -1 when the status is unknown (whoever watched it died)." },

	{ "container", "net-hook", cli_container_net_hook,
	  "internal: a bridge container's createRuntime hook (the runtime's state on stdin)", "CONTAINER", NULL, 1, 1,
	  "Run by the runtime, not by users: makes the container's veth pair, address, route and published ports." },

	/* completion */
	{ "completion", "bash", cli_completion, "print the bash completion script for capsule and capsule-runtime",
	  NULL, NULL, 0, 0,
	  "Load it with: source <(capsule completion bash), or install it as "
	  "/usr/share/bash-completion/completions/capsule (make install does)." },
	{ 0 },
};
