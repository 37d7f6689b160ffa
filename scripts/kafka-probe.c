/*
 * kafka-probe: proves that librdkafka (as installed, e.g. Debian's 2.0.2) can do an idempotent
 * produce against the broker at BOOTSTRAP.
 *
 *   gcc -O1 -o kafka-probe scripts/kafka-probe.c -lrdkafka
 *   kafka-probe BOOTSTRAP [TOPIC] [COUNT]        (or: scripts/kafka probe [-- TOPIC COUNT])
 *
 * Steps: create TOPIC (1 partition, Admin API; "already exists" is fine), produce COUNT messages
 * to partition 0 with enable.idempotence=true and acks=all, wait for every delivery report, then
 * read the producer's statistics JSON. Exits 0 only if
 *   - every message was delivered without error and with status PERSISTED,
 *   - the statistics say "eos": {"idemp_state": "Assigned", "producer_id": >= 0},
 *   - librdkafka logged "Acquired PID" (debug=eos) and raised no fatal error,
 *   - the partition's high watermark grew by exactly COUNT.
 * Set PROBE_VERBOSE=1 to see librdkafka's eos/protocol debug log; PROBE_IDEMPOTENCE=false turns
 * idempotence off as a negative control (the probe must then fail).
 */
#include <librdkafka/rdkafka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int delivered_ok, delivered_err, not_persisted;
static char last_stats_eos[1024];
static int stats_seen;
static char acquired_pid_line[512];
static int verbose;

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "kafka-probe: FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk; (void)opaque;
    if (m->err) {
        delivered_err++;
        fprintf(stderr, "kafka-probe: delivery failed: %s\n", rd_kafka_err2str(m->err));
        return;
    }
    delivered_ok++;
    if (rd_kafka_message_status(m) != RD_KAFKA_MSG_STATUS_PERSISTED) not_persisted++;
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    (void)rk; (void)len; (void)opaque;
    const char *eos = strstr(json, "\"eos\"");
    if (eos) {
        const char *end = strchr(eos, '}');
        size_t n = end ? (size_t)(end - eos + 1) : strlen(eos);
        if (n >= sizeof last_stats_eos) n = sizeof last_stats_eos - 1;
        memcpy(last_stats_eos, eos, n);
        last_stats_eos[n] = 0;
        stats_seen++;
    }
    return 0; /* librdkafka frees json */
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    if (strstr(buf, "Acquired PID") && !acquired_pid_line[0])
        snprintf(acquired_pid_line, sizeof acquired_pid_line, "%s", buf);
    if (verbose || level <= 4) fprintf(stderr, "rdkafka %d %s: %s\n", level, fac, buf);
}

/* Value of "key": in a flat JSON fragment, as a string (quotes stripped). */
static int json_field(const char *json, const char *key, char *out, size_t outsz) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p) return 0;
    p += strlen(pat);
    while (*p == ' ' || *p == ':') p++;
    if (*p == '"') p++;
    size_t i = 0;
    while (*p && *p != '"' && *p != ',' && *p != ' ' && *p != '}' && i + 1 < outsz) out[i++] = *p++;
    out[i] = 0;
    return 1;
}

/* A topic created a moment ago may answer "Not leader for partition" or "Unknown topic" until
 * the broker has applied the metadata: retry for up to 15 s. */
static rd_kafka_resp_err_t watermarks(rd_kafka_t *rk, const char *topic, int64_t *lo, int64_t *hi) {
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; i < 75; i++) {
        e = rd_kafka_query_watermark_offsets(rk, topic, 0, lo, hi, 5000);
        if (!e) return e;
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return e;
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
    char err[512];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) fail(k, err);
}

static void create_topic(const char *bootstrap, const char *topic) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) fail("admin client", err);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, 1, err, sizeof err);
    if (!nt) fail("NewTopic", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    if (!ev) fail("CreateTopics", "no answer in 15 s");
    if (rd_kafka_event_error(ev)) fail("CreateTopics", rd_kafka_event_error_string(ev));
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            printf("topic %s already exists\n", topic);
        else if (e)
            fail("CreateTopics", rd_kafka_topic_result_error_string(res[i]));
        else
            printf("created topic %s\n", topic);
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BOOTSTRAP [TOPIC] [COUNT]\n", argv[0]);
        return 2;
    }
    const char *bootstrap = argv[1];
    char topic_buf[128];
    snprintf(topic_buf, sizeof topic_buf, "procedo.probe.%ld", (long)time(NULL));
    const char *topic = argc > 2 ? argv[2] : topic_buf;
    int count = argc > 3 ? atoi(argv[3]) : 10;
    verbose = getenv("PROBE_VERBOSE") && *getenv("PROBE_VERBOSE") && strcmp(getenv("PROBE_VERBOSE"), "0");
    char err[512];

    printf("librdkafka %s, bootstrap %s, topic %s, %d messages\n", rd_kafka_version_str(), bootstrap,
           topic, count);
    create_topic(bootstrap, topic);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    /* PROBE_IDEMPOTENCE=false is a negative control: the probe must then FAIL. */
    const char *idem = getenv("PROBE_IDEMPOTENCE");
    set(conf, "enable.idempotence", idem && *idem ? idem : "true");
    set(conf, "acks", "all");
    set(conf, "statistics.interval.ms", "100");
    set(conf, "debug", verbose ? "eos,protocol,broker" : "eos");
    set(conf, "message.timeout.ms", "30000");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_stats_cb(conf, stats_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) fail("producer", err);

    int64_t lo0 = 0, hi0 = 0, lo1 = 0, hi1 = 0;
    rd_kafka_resp_err_t e = watermarks(rk, topic, &lo0, &hi0);
    if (e) fail("query watermarks (before)", rd_kafka_err2str(e));

    for (int i = 0; i < count; i++) {
        char key[32], val[128];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "{\"probe\":%d,\"of\":%d}", i, count);
        e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(val, strlen(val)),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e) fail("produce", rd_kafka_err2str(e));
        rd_kafka_poll(rk, 0);
    }
    e = rd_kafka_flush(rk, 30000);
    if (e) fail("flush", rd_kafka_err2str(e));

    /* Wait for a statistics emission after the deliveries. */
    int seen = stats_seen;
    for (int i = 0; i < 50 && stats_seen < seen + 2; i++) rd_kafka_poll(rk, 100);

    char fatal[512];
    rd_kafka_resp_err_t fe = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
    e = watermarks(rk, topic, &lo1, &hi1);
    if (e) fail("query watermarks (after)", rd_kafka_err2str(e));

    char state[64] = "", pid[32] = "", epoch[32] = "";
    json_field(last_stats_eos, "idemp_state", state, sizeof state);
    json_field(last_stats_eos, "producer_id", pid, sizeof pid);
    json_field(last_stats_eos, "producer_epoch", epoch, sizeof epoch);

    printf("delivered %d ok, %d failed, %d not persisted\n", delivered_ok, delivered_err, not_persisted);
    printf("stats: %s\n", last_stats_eos[0] ? last_stats_eos : "(no eos stats)");
    printf("log: %s\n", acquired_pid_line[0] ? acquired_pid_line : "(no \"Acquired PID\" line)");
    printf("high watermark %" PRId64 " -> %" PRId64 "\n", hi0, hi1);

    int ok = 1;
    if (fe) { printf("fatal error: %s\n", fatal); ok = 0; }
    if (delivered_ok != count || delivered_err || not_persisted) ok = 0;
    if (strcmp(state, "Assigned") != 0) ok = 0;
    if (!pid[0] || atoll(pid) < 0) ok = 0;
    if (!acquired_pid_line[0]) ok = 0;
    if (hi1 - hi0 != count) ok = 0;
    rd_kafka_destroy(rk);

    if (ok) {
        printf("PASS: idempotent producer active (idemp_state=%s producer_id=%s producer_epoch=%s), "
               "%d/%d messages persisted\n", state, pid, epoch, delivered_ok, count);
        return 0;
    }
    printf("FAIL: idempotent produce not proven (idemp_state=%s producer_id=%s)\n",
           state[0] ? state : "?", pid[0] ? pid : "?");
    return 1;
}
