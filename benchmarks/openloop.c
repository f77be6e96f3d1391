/* Open-loop HTTP/1.1 load at a fixed rate, one new TCP connection per request (epoll, timerfd).
 *
 * Each request leaves at its scheduled time whether or not earlier ones finished, and its latency
 * is measured from that scheduled time to the last byte of the response, so a stalled server
 * cannot hide its queueing (no coordinated omission). Written in C because a Python client's own
 * scheduling jitter at 3,000 requests/s would be larger than the latencies it measures.
 *
 * usage: openloop PORT RATE SECONDS REQUEST_FILE
 * prints one JSON object: sent, completed, errors, dropped, statuses, achieved rate, percentiles.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 8192
#define BUFFER 2048

typedef struct {
    int fd;
    int64_t scheduled;
    size_t sent;
    size_t received;
    char buffer[BUFFER];
} Connection;

static Connection *slots[MAX_CONNECTIONS];
static int free_slots[MAX_CONNECTIONS];
static int free_count;
static char *request;
static size_t request_length;
static int64_t *latencies;
static long completed, errors, dropped, status_counts[6];
static struct sockaddr_in address;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int compare(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void finish(int epoll, int index, int ok) {
    Connection *c = slots[index];
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (ok) {
        latencies[completed++] = now_ns() - c->scheduled;
        int status = 0;
        if (c->received > 12) status = atoi(c->buffer + 9);
        int klass = status / 100;
        status_counts[(klass >= 1 && klass <= 5) ? klass : 0]++;
    } else {
        errors++;
    }
    free(c);
    slots[index] = NULL;
    free_slots[free_count++] = index;
}

static int response_complete(Connection *c) {
    char *end = memmem(c->buffer, c->received, "\r\n\r\n", 4);
    if (end == NULL) return 0;
    size_t head = (size_t)(end - c->buffer) + 4;
    char *header = c->buffer;
    while (header < end) {
        if (strncasecmp(header, "content-length:", 15) == 0) {
            size_t length = strtoul(header + 15, NULL, 10);
            return c->received >= head + length;
        }
        char *next = memmem(header, (size_t)(end - header), "\r\n", 2);
        if (next == NULL) break;
        header = next + 2;
    }
    return 0; /* no length: the server's close ends it */
}

static void start_request(int epoll, int64_t scheduled) {
    if (free_count == 0) {
        dropped++;
        return;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        errors++;
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0 && errno != EINPROGRESS) {
        close(fd);
        errors++;
        return;
    }
    int index = free_slots[--free_count];
    Connection *c = calloc(1, sizeof *c);
    c->fd = fd;
    c->scheduled = scheduled;
    slots[index] = c;
    struct epoll_event event = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)index};
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
}

static void on_event(int epoll, int index, uint32_t events) {
    Connection *c = slots[index];
    if (c == NULL) return;
    if (c->sent < request_length && (events & EPOLLOUT)) {
        ssize_t n = send(c->fd, request + c->sent, request_length - c->sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) {
            finish(epoll, index, 0);
            return;
        }
        if (n > 0) c->sent += (size_t)n;
        if (c->sent == request_length) {
            struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)index};
            epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
        }
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        for (;;) {
            char scratch[4096];
            char *target = c->received < BUFFER ? c->buffer + c->received : scratch;
            size_t room = c->received < BUFFER ? BUFFER - c->received : sizeof scratch;
            ssize_t n = recv(c->fd, target, room, 0);
            if (n > 0) {
                c->received += (size_t)n;
                if (c->received <= BUFFER && response_complete(c)) {
                    finish(epoll, index, 1);
                    return;
                }
                continue;
            }
            if (n == 0) {
                finish(epoll, index, c->received > 0);
                return;
            }
            if (errno == EAGAIN) break;
            finish(epoll, index, 0);
            return;
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT RATE SECONDS REQUEST_FILE\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    double rate = atof(argv[2]), seconds = atof(argv[3]);
    FILE *file = fopen(argv[4], "rb");
    if (file == NULL) return 2;
    fseek(file, 0, SEEK_END);
    request_length = (size_t)ftell(file);
    rewind(file);
    request = malloc(request_length);
    if (fread(request, 1, request_length, file) != request_length) return 2;
    fclose(file);

    long total = (long)(rate * seconds);
    latencies = malloc(sizeof(int64_t) * (size_t)(total + 1));
    for (int i = 0; i < MAX_CONNECTIONS; i++) free_slots[free_count++] = MAX_CONNECTIONS - 1 - i;
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);

    int epoll = epoll_create1(0);
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct epoll_event timer_event = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &timer_event);

    int64_t interval = (int64_t)(1e9 / rate);
    int64_t start = now_ns() + 10000000LL;
    long next = 0;
    int64_t deadline = start + (int64_t)(seconds * 1e9) + 5000000000LL; /* 5 s to drain */
    struct epoll_event events[512];
    while (1) {
        int64_t now = now_ns();
        while (next < total && start + next * interval <= now) {
            start_request(epoll, start + next * interval);
            next++;
        }
        if (next >= total && free_count == MAX_CONNECTIONS) break;
        if (now > deadline) break;
        if (next < total) {
            int64_t at = start + next * interval;
            struct itimerspec spec = {.it_value = {.tv_sec = at / 1000000000LL, .tv_nsec = at % 1000000000LL}};
            timerfd_settime(timer, TFD_TIMER_ABSTIME, &spec, NULL);
        }
        int ready = epoll_wait(epoll, events, 512, 100);
        for (int i = 0; i < ready; i++) {
            uint32_t index = events[i].data.u32;
            if (index == UINT32_MAX) {
                uint64_t expirations;
                if (read(timer, &expirations, sizeof expirations) < 0) { /* spurious wakeup */ }
                continue;
            }
            on_event(epoll, (int)index, events[i].events);
        }
    }
    long unfinished = MAX_CONNECTIONS - free_count;
    double wall = (double)(now_ns() - start) / 1e9;
    qsort(latencies, (size_t)completed, sizeof(int64_t), compare);
    double p[] = {50.0, 90.0, 99.0, 99.9, 100.0};
    printf("{\"sent\": %ld, \"completed\": %ld, \"errors\": %ld, \"dropped\": %ld, "
           "\"unfinished\": %ld, \"wall_seconds\": %.3f, \"statuses\": {\"2xx\": %ld, \"3xx\": %ld, "
           "\"4xx\": %ld, \"5xx\": %ld, \"other\": %ld}, \"latency_us\": {",
           next, completed, errors, dropped, unfinished, wall, status_counts[2], status_counts[3],
           status_counts[4], status_counts[5], status_counts[0] + status_counts[1]);
    for (int i = 0; i < 5; i++) {
        long rank = (long)ceil(p[i] / 100.0 * (double)completed); /* nearest rank */
        if (rank < 1) rank = 1;
        if (rank > completed) rank = completed;
        double value = completed ? (double)latencies[rank - 1] / 1000.0 : -1.0;
        printf("%s\"p%g\": %.1f", i ? ", " : "", p[i], value);
    }
    printf("}}\n");
    return 0;
}
