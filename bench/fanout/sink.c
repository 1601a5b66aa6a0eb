/*
 * SSE subscriber load: N connections to one HTTP endpoint on loopback, held by epoll.
 *
 *   sink HOST PORT PATH N
 *
 * Prints "ready OK FAILED" once every connection has its response headers (status 200).
 * Then reads commands on stdin:
 *   arm MARKER   reply "armed"; afterwards, when every open connection has received MARKER,
 *                print "done COUNT MAX_NS" (MAX_NS: CLOCK_MONOTONIC of the last arrival)
 *   report       print "partial COUNT MAX_NS OPEN" for the armed marker
 *   quit         reset every connection (no TIME_WAIT) and exit
 *
 * A marker may straddle two reads; the last bytes of each connection are kept for that.
 * The controller and the sink share CLOCK_MONOTONIC, so times compare across processes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_MARKER 64
#define CONNECT_WINDOW 256

enum state { CONNECTING, HEADERS, OPEN, CLOSED };

struct conn {
    int fd;
    enum state state;
    int round_seen;
    int tail_len;
    char tail[MAX_MARKER];
};

static struct conn *conns;
static int n_conns, n_open, n_failed, n_pending;
static char request[1024];
static int request_len;
static struct sockaddr_in server;
static int epfd;
static char marker[MAX_MARKER];
static int marker_len, round_id, round_count, round_reported;
static int64_t round_max;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void close_conn(struct conn *c, int failed) {
    if (c->state == CLOSED) return;
    if (c->state == OPEN) n_open--;
    else n_pending--;
    if (failed) n_failed++;
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c->fd);
    c->state = CLOSED;
}

static void start_connect(struct conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) { perror("socket"); exit(1); }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = CONNECTING;
    n_pending++;
    if (connect(c->fd, (struct sockaddr *)&server, sizeof server) < 0 && errno != EINPROGRESS) {
        close_conn(c, 1);
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void check_round_done(void) {
    if (marker_len && !round_reported && round_count >= n_open) {
        printf("done %d %lld\n", round_count, (long long)round_max);
        fflush(stdout);
        round_reported = 1;
    }
}

static void scan(struct conn *c, const char *data, int len) {
    if (!marker_len || c->round_seen == round_id) goto keep_tail;
    char joined[MAX_MARKER * 2];
    /* Look across the boundary first, then inside this read. */
    int head = len < marker_len - 1 ? len : marker_len - 1;
    memcpy(joined, c->tail, c->tail_len);
    memcpy(joined + c->tail_len, data, head);
    if (memmem(joined, c->tail_len + head, marker, marker_len) ||
        memmem(data, len, marker, marker_len)) {
        int64_t t = now_ns();
        c->round_seen = round_id;
        round_count++;
        if (t > round_max) round_max = t;
        check_round_done();
    }
keep_tail:
    if (len >= MAX_MARKER - 1) {
        c->tail_len = MAX_MARKER - 1;
        memcpy(c->tail, data + len - c->tail_len, c->tail_len);
    } else {
        int keep = MAX_MARKER - 1 - len;
        if (keep > c->tail_len) keep = c->tail_len;
        memmove(c->tail, c->tail + c->tail_len - keep, keep);
        memcpy(c->tail + keep, data, len);
        c->tail_len = keep + len;
    }
}

static void on_readable(struct conn *c) {
    static char buf[65536];
    for (;;) {
        ssize_t got = read(c->fd, buf, sizeof buf);
        if (got > 0) {
            if (c->state == HEADERS) {
                buf[got < (ssize_t)sizeof buf ? got : (ssize_t)sizeof buf - 1] = 0;
                if (strncmp(buf, "HTTP/1.1 200", 12) != 0) { close_conn(c, 1); return; }
                char *end = memmem(buf, got, "\r\n\r\n", 4);
                c->state = OPEN;
                n_pending--;
                n_open++;
                if (end) scan(c, end + 4, (int)(got - (end + 4 - buf)));
                continue;
            }
            scan(c, buf, (int)got);
            continue;
        }
        if (got == 0) { close_conn(c, 1); check_round_done(); return; }
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        close_conn(c, 1);
        check_round_done();
        return;
    }
}

static void on_command(void) {
    static char line[256];
    static int used;
    ssize_t got = read(0, line + used, sizeof line - 1 - used);
    if (got <= 0) exit(0);
    used += (int)got;
    char *nl;
    while ((nl = memchr(line, '\n', used))) {
        *nl = 0;
        if (!strncmp(line, "arm ", 4)) {
            marker_len = (int)strlen(line + 4);
            if (marker_len >= MAX_MARKER) marker_len = MAX_MARKER - 1;
            memcpy(marker, line + 4, marker_len);
            round_id++;
            round_count = 0;
            round_max = 0;
            round_reported = 0;
            printf("armed\n");
            fflush(stdout);
        } else if (!strcmp(line, "report")) {
            printf("partial %d %lld %d\n", round_count, (long long)round_max, n_open);
            fflush(stdout);
        } else if (!strcmp(line, "quit")) {
            for (int i = 0; i < n_conns; i++) close_conn(&conns[i], 0);
            exit(0);
        }
        int rest = used - (int)(nl + 1 - line);
        memmove(line, nl + 1, rest);
        used = rest;
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT PATH N\n", argv[0]);
        return 2;
    }
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)atoi(argv[2]));
    inet_pton(AF_INET, argv[1], &server.sin_addr);
    n_conns = atoi(argv[4]);
    request_len = snprintf(request, sizeof request,
                           "GET %s HTTP/1.1\r\nHost: %s:%s\r\nAccept: text/event-stream\r\n\r\n",
                           argv[3], argv[1], argv[2]);
    conns = calloc(n_conns, sizeof *conns);
    epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);

    int next = 0, ready_reported = 0;
    struct epoll_event events[1024];
    for (;;) {
        while (next < n_conns && n_pending < CONNECT_WINDOW) start_connect(&conns[next++]);
        if (!ready_reported && next == n_conns && n_pending == 0) {
            printf("ready %d %d\n", n_open, n_failed);
            fflush(stdout);
            ready_reported = 1;
        }
        int n = epoll_wait(epfd, events, 1024, 1000);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (!c) { on_command(); continue; }
            if (c->state == CONNECTING && (events[i].events & EPOLLOUT)) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err || write(c->fd, request, request_len) != request_len) {
                    close_conn(c, 1);
                    continue;
                }
                c->state = HEADERS;
                struct epoll_event in = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &in);
                continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
        }
    }
}
