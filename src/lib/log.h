/* Diagnostic logging to stderr. Level from --debug or CAPSULE_LOG=debug|info|warn|error. */
#ifndef CAPSULE_LIB_LOG_H
#define CAPSULE_LIB_LOG_H

enum cap_log_level { CAP_LOG_DEBUG, CAP_LOG_INFO, CAP_LOG_WARN, CAP_LOG_ERROR, CAP_LOG_QUIET };

void cap_log_set_level(enum cap_log_level level);
enum cap_log_level cap_log_get_level(void);
void cap_log_init_from_env(void);
void cap_log(enum cap_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cap_debug(...) cap_log(CAP_LOG_DEBUG, __VA_ARGS__)
#define cap_info(...) cap_log(CAP_LOG_INFO, __VA_ARGS__)
#define cap_warn(...) cap_log(CAP_LOG_WARN, __VA_ARGS__)

#endif
