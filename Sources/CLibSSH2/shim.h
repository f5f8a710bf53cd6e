#ifndef PERFCTL_CLIBSSH2_SHIM_H
#define PERFCTL_CLIBSSH2_SHIM_H

// libssh2's public headers plus its function-like macros as inline functions:
// Swift does not import C macros that take arguments.
#include <libssh2.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

static inline LIBSSH2_SESSION *perf_ssh2_session_init(void) {
    return libssh2_session_init_ex(NULL, NULL, NULL, NULL);
}

static inline int perf_ssh2_session_disconnect(LIBSSH2_SESSION *session, const char *description) {
    return libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, description, "");
}

static inline LIBSSH2_CHANNEL *perf_ssh2_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1,
                                   LIBSSH2_CHANNEL_WINDOW_DEFAULT,
                                   LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

static inline int perf_ssh2_channel_exec(LIBSSH2_CHANNEL *channel, const char *command, unsigned int length) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1, command, length);
}

static inline ssize_t perf_ssh2_channel_read(LIBSSH2_CHANNEL *channel, int stream, char *buf, size_t length) {
    return libssh2_channel_read_ex(channel, stream, buf, length);
}

static inline ssize_t perf_ssh2_channel_write(LIBSSH2_CHANNEL *channel, const char *buf, size_t length) {
    return libssh2_channel_write_ex(channel, 0, buf, length);
}

static inline int perf_ssh2_channel_close(LIBSSH2_CHANNEL *channel) { return libssh2_channel_close(channel); }

static inline int perf_ssh2_userauth_publickey_fromfile(LIBSSH2_SESSION *session, const char *user,
                                                        const char *publicKey, const char *privateKey,
                                                        const char *passphrase) {
    return libssh2_userauth_publickey_fromfile_ex(session, user, (unsigned int)strlen(user),
                                                  publicKey, privateKey, passphrase);
}

static inline int perf_ssh2_last_errno(LIBSSH2_SESSION *session) { return libssh2_session_last_errno(session); }

// Constants that are defined as shifted expressions Swift may not import.
static const int perf_ssh2_eagain = LIBSSH2_ERROR_EAGAIN;

#endif
