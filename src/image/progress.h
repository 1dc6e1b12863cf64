/* Progress of long image operations on a terminal: one line on stderr, rewritten at most ten
 * times a second ("copy 0123456789ab..: 12.0 / 45.3 MB, total 80.1 MB"), erased when done.
 * Off (every call a no-op) when stderr is not a terminal, so pipes and logs stay quiet. */
#ifndef CAPSULE_IMAGE_PROGRESS_H
#define CAPSULE_IMAGE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct progress {
	bool on;
	bool shown;                     /* a line is on the terminal */
	unsigned long long total;       /* bytes of every step so far */
	unsigned long long step_start;  /* total when this step began */
	bool counts;                    /* this step's bytes count into the total */
	struct timespec last;
};

void progress_init(struct progress *p);
/* A step (what, e.g. "copy LAYER") has done bytes of size (0: unknown); done counts into the
 * total. Rate-limited unless final. */
void progress_step(struct progress *p, const char *what, unsigned long long done, unsigned long long size,
		   bool final);
/* The next step's bytes start from here; they count into the total when counts (a copy
 * does; unpacking what was copied does not count twice). */
void progress_next(struct progress *p, bool counts);
/* "VERB NAME" with NAME's last path component cut to 12 characters (a digest's start). */
void progress_label(char *buf, size_t sz, const char *verb, const char *name);
/* Erase the line. */
void progress_end(struct progress *p);

#endif
