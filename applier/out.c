/*
 * out.c: progress lines and JSON events.
 * Layer: applier.
 */
#include "out.h"
#include "sealift/json.h"

#include <stdarg.h>
#include <stdio.h>

void
out_event(struct out *o, const char *event, const char *fields)
{
    struct buf b = BUF_INIT;

    if (!o->json)
        return;
    buf_addch(&b, '{');
    json_key(&b, "event", 1);
    json_str(&b, event);
    if (fields && *fields) {
        buf_addch(&b, ',');
        buf_addstr(&b, fields);
    }
    buf_addstr(&b, "}\n");
    fputs(b.data, stdout);
    fflush(stdout);
    buf_release(&b);
}

void
out_live(struct out *o, const char *line)
{
    if (!o->tty || o->json || o->quiet)
        return;
    printf("\r%s\033[K", line);
    fflush(stdout);
    o->live = 1;
}

void
out_live_end(struct out *o)
{
    if (!o->live)
        return;
    fputs("\r\033[K", stdout);
    fflush(stdout);
    o->live = 0;
}

void
out_info(struct out *o, const char *fmt, ...)
{
    struct buf msg = BUF_INIT;
    va_list ap;

    out_live_end(o);
    if (o->quiet)
        return;
    va_start(ap, fmt);
    buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    if (o->json) {
        struct buf f = BUF_INIT;

        json_key(&f, "message", 1);
        json_str(&f, msg.data);
        out_event(o, "info", f.data);
        buf_release(&f);
    } else {
        printf("%s\n", msg.data);
        fflush(stdout);
    }
    buf_release(&msg);
}

void
out_migration(struct out *o, const char *verb, const char *id, const char *label, double ms)
{
    out_live_end(o);
    o->done++;
    if (o->quiet)
        return;
    if (o->json) {
        struct buf f = BUF_INIT;

        json_key(&f, "migration", 1);
        json_str(&f, id);
        json_key(&f, "label", 0);
        json_str(&f, label);
        json_key(&f, "ordinal_in_run", 0);
        buf_addf(&f, "%zu", o->done);
        json_key(&f, "total_in_run", 0);
        buf_addf(&f, "%zu", o->total);
        json_key(&f, "duration_ms", 0);
        buf_addf(&f, "%.3f", ms);
        {
            struct buf name = BUF_INIT;

            buf_addstr(&name, "migration_");
            for (const char *p = verb; *p; p++)
                buf_addch(&name, *p == ' ' ? '_' : *p);
            out_event(o, name.data, f.data);
            buf_release(&name);
        }
        buf_release(&f);
        return;
    }
    printf("[%*zu/%zu] %s %s (%.1f ms)\n", o->total >= 1000 ? 5 : 3, o->done, o->total, verb, label,
           ms);
    fflush(stdout);
}

void
out_undone(struct out *o, const char *verb, const char *id, const char *label)
{
    out_live_end(o);
    if (o->done > 0)
        o->done--;
    if (o->quiet)
        return;
    if (o->json) {
        struct buf f = BUF_INIT;

        json_key(&f, "migration", 1);
        json_str(&f, id);
        json_key(&f, "label", 0);
        json_str(&f, label);
        json_key(&f, "undid", 0);
        json_str(&f, verb);
        json_key(&f, "reason", 0);
        json_str(&f, "a later failure rolled its transaction back");
        out_event(o, "rolled_back", f.data);
        buf_release(&f);
        return;
    }
    printf("%*s undone: %s (%s, then a later failure rolled its transaction back)\n",
           o->total >= 1000 ? 13 : 9, "", label, verb);
    fflush(stdout);
}

void
out_statement(struct out *o, const char *id, size_t k, size_t n, double ms)
{
    out_live_end(o);
    if (o->quiet)
        return;
    if (o->json) {
        struct buf f = BUF_INIT;

        json_key(&f, "migration", 1);
        json_str(&f, id);
        json_key(&f, "statement", 0);
        buf_addf(&f, "%zu", k);
        json_key(&f, "statements", 0);
        buf_addf(&f, "%zu", n);
        json_key(&f, "duration_ms", 0);
        buf_addf(&f, "%.3f", ms);
        out_event(o, "statement", f.data);
        buf_release(&f);
        return;
    }
    printf("        statement %zu/%zu of %s done (%.1f ms)\n", k, n, id, ms);
    fflush(stdout);
}

/* "12.3 MiB" */
static void
add_size(struct buf *b, double bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;

    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    buf_addf(b, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

void
out_load_progress(struct out *o, const char *label, unsigned long long sent,
                  unsigned long long total, unsigned long long lines, double secs)
{
    struct buf b = BUF_INIT;
    double rate = secs > 0 ? (double)sent / secs : 0;

    if (o->quiet)
        return;
    if (o->json) {
        json_key(&b, "data", 1);
        json_str(&b, label);
        buf_addf(&b, ",\"bytes\":%llu,\"total_bytes\":%llu,\"lines\":%llu,\"seconds\":%.3f", sent,
                 total, lines, secs);
        if (rate > 0 && total >= sent)
            buf_addf(&b, ",\"eta_seconds\":%.1f", (double)(total - sent) / rate);
        out_event(o, "load_progress", b.data);
        buf_release(&b);
        return;
    }
    if (!o->tty)
        return;  /* in logs, only the final line */
    o->live = 1; /* drawn below; the next line erases it */
    buf_addf(&b, "\r        loading %s: ", label);
    add_size(&b, (double)sent);
    buf_addstr(&b, " of ");
    add_size(&b, (double)total);
    buf_addf(&b, " (%.0f%%), ~%llu rows, ", total ? 100.0 * (double)sent / (double)total : 100.0,
             lines);
    add_size(&b, rate);
    buf_addstr(&b, "/s");
    if (rate > 0 && total >= sent)
        buf_addf(&b, ", %.0f s left", (double)(total - sent) / rate);
    buf_addstr(&b, "\033[K");
    fputs(b.data, stdout);
    fflush(stdout);
    buf_release(&b);
}

void
out_load_done(struct out *o, const char *label, unsigned long long rows, unsigned long long bytes,
              double ms)
{
    struct buf b = BUF_INIT;

    if (o->quiet)
        return;
    if (o->json) {
        json_key(&b, "data", 1);
        json_str(&b, label);
        buf_addf(&b, ",\"rows\":%llu,\"bytes\":%llu,\"duration_ms\":%.3f", rows, bytes, ms);
        out_event(o, "loaded", b.data);
        buf_release(&b);
        return;
    }
    buf_addf(&b, "%s        loaded %s: %llu rows, ", o->tty ? "\r\033[K" : "", label, rows);
    add_size(&b, (double)bytes);
    buf_addf(&b, " in %.1f s", ms / 1000.0);
    if (ms > 0) {
        buf_addstr(&b, " (");
        add_size(&b, (double)bytes / (ms / 1000.0));
        buf_addstr(&b, "/s)");
    }
    buf_addch(&b, '\n');
    fputs(b.data, stdout);
    fflush(stdout);
    buf_release(&b);
}

void
out_error(int exit_code, const char *message, const char *detail, const char *hint)
{
    struct out o = {.json = 1};
    struct buf f = BUF_INIT;

    json_key(&f, "exit_code", 1);
    buf_addf(&f, "%d", exit_code);
    json_key(&f, "message", 0);
    json_str(&f, message);
    json_key(&f, "detail", 0);
    json_str(&f, detail);
    json_key(&f, "hint", 0);
    json_str(&f, hint);
    out_event(&o, "error", f.data);
    buf_release(&f);
}
