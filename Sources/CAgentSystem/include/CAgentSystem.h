#ifndef C_AGENT_SYSTEM_H
#define C_AGENT_SYSTEM_H

#include <spawn.h>

/// glibc declares these only under _GNU_SOURCE, which Swift's Glibc module is built without.

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from `lowest` up.
int perf_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowest);

/// POSIX_SPAWN_SETSID: the child starts a new session (setsid).
short perf_spawn_setsid_flag(void);

/// accept4(listener, NULL, NULL, SOCK_CLOEXEC): the connection is never inherited by a child.
int perf_accept_cloexec(int listener);

#endif
