#define _GNU_SOURCE
#include <spawn.h>
#include <stddef.h>
#include <sys/socket.h>

#include "CAgentSystem.h"

int perf_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

short perf_spawn_setsid_flag(void) {
    return POSIX_SPAWN_SETSID;
}

int perf_accept_cloexec(int listener) {
    return accept4(listener, NULL, NULL, SOCK_CLOEXEC);
}
