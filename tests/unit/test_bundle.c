/*
 * test_bundle.c: unit tests for lib/bundle.c (reproducible ustar writing, strict reading).
 * Layer: tests. Hostile archives are crafted with libarchive directly, the way an attacker
 * would make them, and bundle_reader_next must refuse each with a message naming the problem.
 */
#include "unit.h"

#include "sealift/bundle.h"

#include <archive.h>
#include <archive_entry.h>

#define MTIME 1767225600 /* 2026-01-01T00:00:00Z */

struct fixture {
    char dir[UNIT_PATH_MAX];
};

struct member {
    const char *name;
    const char *data;
    size_t len;
};

static int
setup_tmpdir(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || unit_mkdtemp(f->dir) != 0) {
        free(f);
        return -1;
    }
    umask(022);
    *state = f;
    return 0;
}

static int
teardown_tmpdir(void **state)
{
    struct fixture *f = *state;
    int ret = unit_rmtree(f->dir);

    free(f);
    return ret;
}

static void
write_bundle(const char *path, enum codec_kind kind, const struct member *m, size_t n)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct bundle_writer *w = bundle_writer_open(path, kind, MTIME, &err);

    if (w == NULL)
        fail_msg("bundle_writer_open: %s", err.msg);
    for (size_t i = 0; i < n; i++)
        if (bundle_writer_add(w, m[i].name, m[i].data, m[i].len, &err) != 0)
            fail_msg("bundle_writer_add \"%s\": %s", m[i].name, err.msg);
    if (bundle_writer_close(w, &err) != 0)
        fail_msg("bundle_writer_close: %s", err.msg);
}

/* Read the current entry's data into out, in small reads. Returns 0 or -1 with err set. */
static int
read_entry(struct bundle_reader *r, struct buf *out, struct diag_err *err)
{
    char chunk[3001];
    ssize_t n;

    while ((n = bundle_reader_read(r, chunk, sizeof(chunk), err)) > 0)
        buf_add(out, chunk, (size_t)n);
    return n < 0 ? -1 : 0;
}

/* A big member of non-repeating text. */
static void
make_big(struct buf *b, size_t len)
{
    unsigned x = 7;

    while (b->len < len) {
        x = x * 1103515245u + 12345u;
        buf_addf(b, "%08x", x);
    }
    buf_truncate(b, len);
}

/* A table case that must be refused with a message containing expect: 1 (printed) if not. */
static int
refusal_missed(const char *what, int accepted, const char *msg, const char *expect)
{
    if (accepted) {
        print_error("%s: accepted\n", what);
        return 1;
    }
    if (strstr(msg, expect) == NULL) {
        print_error("%s: \"%s\" does not contain \"%s\"\n", what, msg, expect);
        return 1;
    }
    return 0;
}

static void
test_bundle_write_read_round_trip(void **state)
{
    static const enum codec_kind kinds[] = {CODEC_ZSTD, CODEC_GZIP, CODEC_NONE};
    struct fixture *f = *state;
    struct buf big = BUF_INIT;
    char path[UNIT_PATH_MAX];

    make_big(&big, 300000);
    unit_path(path, f->dir, "b.bundle");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        const struct member members[] = {
            {"MANIFEST", "# sealift-manifest 1\n", 21},
            {"MANIFEST.5B5F7DFD72CEDEDD.minisig", "sig\n", 4},
            {"migrations/0001_init/up.sql", "CREATE TABLE t (id int);\n", 25},
            {"migrations/0001_init/empty.sql", "", 0},
            {"migrations/0002_big/up.sql", big.data, big.len},
            {"bin", "\0\1\2\0", 4},
        };
        const size_t n = sizeof(members) / sizeof(members[0]);
        struct diag_err err = DIAG_ERR_INIT;
        struct bundle_reader *r;
        struct bundle_entry e;
        struct stat st;

        write_bundle(path, kinds[k], members, n);
        r = bundle_reader_open(path, &err);
        if (r == NULL)
            fail_msg("%s: %s", codec_name(kinds[k]), err.msg);
        assert_int_equal(bundle_reader_compression(r), kinds[k]);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(bundle_reader_file_size(r), (uint64_t)st.st_size);
        assert_int_equal(st.st_mode & 0777, 0644); /* public, not mkstemp's 0600 */
        for (size_t i = 0; i < n; i++) {
            struct buf data = BUF_INIT;

            if (bundle_reader_next(r, &e, &err) != 1)
                fail_msg("%s member %zu: %s", codec_name(kinds[k]), i, err.msg);
            assert_string_equal(e.name, members[i].name);
            assert_int_equal(e.size, members[i].len);
            assert_int_equal(e.mtime, MTIME);
            assert_int_equal(read_entry(r, &data, &err), 0);
            assert_int_equal(data.len, members[i].len);
            assert_memory_equal(data.data, members[i].data, members[i].len);
            buf_release(&data);
        }
        assert_int_equal(bundle_reader_next(r, &e, &err), 0);
        bundle_reader_close(r);
        /* Only the bundle is left: the temporary file was renamed into place. */
        assert_int_equal(unit_count_entries(f->dir), 1);
    }
    buf_release(&big);
}

/* Parse an octal ustar numeric field. */
static unsigned long long
octal_field(const char *p, size_t len)
{
    unsigned long long v = 0;

    for (size_t i = 0; i < len && p[i] >= '0' && p[i] <= '7'; i++)
        v = v * 8 + (unsigned)(p[i] - '0');
    return v;
}

static void
test_bundle_output_is_reproducible(void **state)
{
    static const enum codec_kind kinds[] = {CODEC_ZSTD, CODEC_GZIP, CODEC_NONE};
    static const struct member members[] = {
        {"MANIFEST", "# sealift-manifest 1\n", 21},
        {"migrations/0001_init/up.sql", "CREATE TABLE t (id int);\n", 25},
    };
    struct fixture *f = *state;
    char p1[UNIT_PATH_MAX], p2[UNIT_PATH_MAX];

    unit_path(p1, f->dir, "one.bundle");
    unit_path(p2, f->dir, "two.bundle");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct buf a = BUF_INIT, b = BUF_INIT;

        write_bundle(p1, kinds[k], members, 2);
        /* A different umask, time of day and file name must not leak into the bytes. */
        umask(077);
        sleep(kinds[k] == CODEC_NONE ? 1 : 0);
        write_bundle(p2, kinds[k], members, 2);
        umask(022);
        unit_read_file(p1, &a);
        unit_read_file(p2, &b);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        if (kinds[k] == CODEC_NONE) {
            const char *h = a.data;

            /* The first ustar header, field by field. */
            assert_string_equal(h, "MANIFEST");
            assert_int_equal(octal_field(h + 100, 8), 0644);
            assert_int_equal(octal_field(h + 108, 8), 0);
            assert_int_equal(octal_field(h + 116, 8), 0);
            assert_int_equal(octal_field(h + 124, 12), 21);
            assert_int_equal(octal_field(h + 136, 12), MTIME);
            assert_int_equal(h[156], '0');
            assert_memory_equal(h + 257,
                                "ustar\0"
                                "00",
                                8);
            assert_string_equal(h + 265, ""); /* no user name */
            assert_string_equal(h + 297, ""); /* no group name */
            assert_memory_equal(h + 512, "# sealift-manifest 1\n", 21);
            assert_int_equal(a.len % 512, 0);
        }
        buf_release(&a);
        buf_release(&b);
    }
}

static void
test_bundle_writer_refuses_long_name(void **state)
{
    struct fixture *f = *state;
    struct diag_err err = DIAG_ERR_INIT;
    char path[UNIT_PATH_MAX];
    char name[BUNDLE_MAX_NAME + 2];
    struct bundle_writer *w;

    unit_path(path, f->dir, "long.bundle");
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    w = bundle_writer_open(path, CODEC_NONE, MTIME, &err);
    assert_non_null(w);
    assert_int_equal(bundle_writer_add(w, name, "x", 1, &err), -1);
    assert_contains(err.msg, "is longer than 99 bytes");
    /* The longest name fits. */
    name[BUNDLE_MAX_NAME] = '\0';
    assert_int_equal(bundle_writer_add(w, name, "x", 1, &err), 0);
    bundle_writer_abort(w);
    /* Abort removes the temporary file and never creates the bundle. */
    assert_int_equal(unit_count_entries(f->dir), 0);
}

/*
 * The bundle is renamed into place: over a FIFO or a device ("-o /dev/null" as root) that
 * would replace the special file with a regular one. Refused before anything is written.
 */
static void
test_bundle_writer_refuses_special_output(void **state)
{
    struct fixture *f = *state;
    struct diag_err err = DIAG_ERR_INIT;
    char path[UNIT_PATH_MAX];
    struct stat st;

    unit_path(path, f->dir, "fifo");
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_null(bundle_writer_open(path, CODEC_NONE, MTIME, &err));
    assert_contains(err.msg, "is not a regular file");
    assert_int_equal(err.io, 1);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(unit_count_entries(f->dir), 1); /* no temporary file left */

    unit_path(path, f->dir, "subdir");
    assert_int_equal(mkdir(path, 0700), 0);
    assert_null(bundle_writer_open(path, CODEC_NONE, MTIME, &err));
    assert_contains(err.msg, "is not a regular file");
}

static void
test_bundle_writer_replaces_atomically(void **state)
{
    static const struct member members[] = {{"MANIFEST", "new\n", 4}};
    struct fixture *f = *state;
    struct diag_err err = DIAG_ERR_INIT;
    char path[UNIT_PATH_MAX], missing[UNIT_PATH_MAX];
    struct bundle_writer *w;
    struct buf text = BUF_INIT;

    unit_path(path, f->dir, "existing.bundle");
    unit_write_file(path, "old", 3, 0644);
    w = bundle_writer_open(path, CODEC_NONE, MTIME, &err);
    assert_non_null(w);
    assert_int_equal(bundle_writer_add(w, members[0].name, members[0].data, members[0].len, &err),
                     0);
    /* Until the close, the old file is untouched. */
    unit_read_file(path, &text);
    assert_string_equal(text.data, "old");
    assert_int_equal(unit_count_entries(f->dir), 2);
    assert_int_equal(bundle_writer_close(w, &err), 0);
    assert_int_equal(unit_count_entries(f->dir), 1);
    buf_reset(&text);
    unit_read_file(path, &text);
    assert_string_equal(text.data, "MANIFEST");

    unit_path(missing, f->dir, "no/such/dir.bundle");
    assert_null(bundle_writer_open(missing, CODEC_ZSTD, MTIME, &err));
    assert_contains(err.msg, "could not create file");
    assert_contains(err.msg, "No such file or directory");
    buf_release(&text);
}

static void
test_bundle_reader_open_errors(void **state)
{
    struct fixture *f = *state;
    struct diag_err err = DIAG_ERR_INIT;
    char path[UNIT_PATH_MAX];

    unit_path(path, f->dir, "missing.bundle");
    assert_null(bundle_reader_open(path, &err));
    assert_int_equal(err.io, 1);
    assert_contains(err.msg, "could not open bundle");
    assert_contains(err.msg, "No such file or directory");

    assert_null(bundle_reader_open(f->dir, &err));
    assert_int_equal(err.io, 1);
    assert_contains(err.msg, "is not a regular file");
}

/* An entry for a crafted archive. */
struct craft {
    const char *name;
    unsigned type; /* AE_IFREG, AE_IFLNK, ... */
    const char *link;
    int hardlink;
    const char *data;
};

typedef int (*format_fn)(struct archive *);

/* Write an uncompressed archive with libarchive: a good member, then the given entry. */
static void
craft_archive(const char *path, format_fn format, const struct craft *c, long nsec)
{
    struct archive *a = archive_write_new();
    struct archive_entry *e;
    size_t len = c->data ? strlen(c->data) : 0;

    assert_non_null(a);
    assert_int_equal(format(a), ARCHIVE_OK);
    assert_int_equal(archive_write_add_filter_none(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);

    e = archive_entry_new();
    archive_entry_set_pathname(e, "ok.sql");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 3);
    archive_entry_set_mtime(e, MTIME, 0);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(a, "ok\n", 3), 3);
    archive_entry_free(e);

    e = archive_entry_new();
    archive_entry_set_pathname(e, c->name);
    archive_entry_set_filetype(e, c->type);
    archive_entry_set_perm(e, c->type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_mtime(e, MTIME, nsec);
    if (c->type == AE_IFLNK)
        archive_entry_set_symlink(e, c->link);
    else if (c->hardlink)
        archive_entry_set_hardlink(e, c->link);
    if (c->type == AE_IFCHR)
        archive_entry_set_rdev(e, 0x0103);
    archive_entry_set_size(e, (la_int64_t)(c->type == AE_IFREG && !c->hardlink ? len : 0));
    if (archive_write_header(a, e) != ARCHIVE_OK)
        fail_msg("crafting \"%s\": %s", c->name, archive_error_string(a));
    if (c->type == AE_IFREG && !c->hardlink && len > 0)
        assert_int_equal(archive_write_data(a, c->data, len), (la_ssize_t)len);
    archive_entry_free(e);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

#define LONG_NAME                                                                                  \
    "dir0123456789/dir0123456789/dir0123456789/dir0123456789/dir0123456789/dir0123456789/"         \
    "dir0123456789/file.sql"

static void
test_bundle_reader_refuses_hostile_archives(void **state)
{
    static const struct {
        const char *what;
        format_fn format;
        struct craft entry;
        long nsec; /* sub-second mtime: makes the pax writer emit an extended header */
        const char *expect;
    } cases[] = {
        {"pax header",
         archive_write_set_format_pax,
         {"x.sql", AE_IFREG, NULL, 0, "x\n"},
         5,
         "(member \"PaxHeader/x.sql\"): not a plain ustar header (pax extension header)"},
        /* A GNU or v7 archive is refused at its first member, whatever that is. */
        {"GNU tar header",
         archive_write_set_format_gnutar,
         {"x.sql", AE_IFREG, NULL, 0, "x\n"},
         0,
         "(member \"ok.sql\"): not a plain ustar header (magic)"},
        {"v7 tar header",
         archive_write_set_format_v7tar,
         {"x.sql", AE_IFREG, NULL, 0, "x\n"},
         0,
         "unrecognized format: not zstd, gzip or a ustar archive"},
        {"symbolic link",
         archive_write_set_format_ustar,
         {"link.sql", AE_IFLNK, "/etc/passwd", 0, NULL},
         0,
         "member \"link.sql\": symbolic links are not allowed"},
        {"relative symbolic link",
         archive_write_set_format_ustar,
         {"link.sql", AE_IFLNK, "ok.sql", 0, NULL},
         0,
         "member \"link.sql\": symbolic links are not allowed"},
        {"hard link",
         archive_write_set_format_ustar,
         {"hard.sql", AE_IFREG, "ok.sql", 1, NULL},
         0,
         "member \"hard.sql\": hard links are not allowed"},
        {"directory",
         archive_write_set_format_ustar,
         {"dir", AE_IFDIR, NULL, 0, NULL},
         0,
         "member \"dir/\": unsafe or non-canonical name"},
        {"FIFO",
         archive_write_set_format_ustar,
         {"fifo", AE_IFIFO, NULL, 0, NULL},
         0,
         "member \"fifo\": not a regular file"},
        {"character device",
         archive_write_set_format_ustar,
         {"tty", AE_IFCHR, NULL, 0, NULL},
         0,
         "member \"tty\": not a regular file"},
        {"parent directory",
         archive_write_set_format_ustar,
         {"../evil.sql", AE_IFREG, NULL, 0, "x\n"},
         0,
         "member \"../evil.sql\": unsafe or non-canonical name"},
        {"parent inside",
         archive_write_set_format_ustar,
         {"migrations/../../evil.sql", AE_IFREG, NULL, 0, "x\n"},
         0,
         "member \"migrations/../../evil.sql\": unsafe or non-canonical name"},
        {"absolute name",
         archive_write_set_format_ustar,
         {"/etc/cron.d/evil", AE_IFREG, NULL, 0, "x\n"},
         0,
         "member \"/etc/cron.d/evil\": unsafe or non-canonical name"},
        {"dot component",
         archive_write_set_format_ustar,
         {"./x.sql", AE_IFREG, NULL, 0, "x\n"},
         0,
         "member \"./x.sql\": unsafe or non-canonical name"},
        {"empty component",
         archive_write_set_format_ustar,
         {"a//x.sql", AE_IFREG, NULL, 0, "x\n"},
         0,
         "member \"a//x.sql\": unsafe or non-canonical name"},
        {"space in name",
         archive_write_set_format_ustar,
         {"a b.sql", AE_IFREG, NULL, 0, "x\n"},
         0,
         "member \"a b.sql\": unsafe or non-canonical name"},
        {"backslash in name",
         archive_write_set_format_ustar,
         {"a\\..\\x.sql", AE_IFREG, NULL, 0, "x\n"},
         0,
         "unsafe or non-canonical name"},
        {"name in the prefix field",
         archive_write_set_format_ustar,
         {LONG_NAME, AE_IFREG, NULL, 0, "x\n"},
         0,
         "prefix field is not empty"},
    };
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];
    int failures = 0;

    unit_path(path, f->dir, "hostile.tar");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct diag_err err = DIAG_ERR_INIT;
        struct bundle_reader *r;
        struct bundle_entry e;
        struct buf data = BUF_INIT;
        int ret;

        craft_archive(path, cases[i].format, &cases[i].entry, cases[i].nsec);
        r = bundle_reader_open(path, &err);
        /* An archive that is not ustar from its first header on is refused at once. */
        if (r == NULL) {
            failures += refusal_missed(cases[i].what, 0, err.msg, cases[i].expect);
            continue;
        }
        assert_int_equal(bundle_reader_compression(r), CODEC_NONE);
        /* Members before the hostile one are read normally. */
        while ((ret = bundle_reader_next(r, &e, &err)) == 1) {
            assert_string_equal(e.name, "ok.sql");
            buf_reset(&data);
            assert_int_equal(read_entry(r, &data, &err), 0);
            assert_string_equal(data.data, "ok\n");
        }
        failures += refusal_missed(cases[i].what, ret != -1, err.msg, cases[i].expect);
        bundle_reader_close(r);
        buf_release(&data);
    }
    assert_int_equal(failures, 0);
}

static void
test_bundle_reader_refuses_truncated_member(void **state)
{
    struct fixture *f = *state;
    struct buf big = BUF_INIT, whole = BUF_INIT, data = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    char path[UNIT_PATH_MAX], cut[UNIT_PATH_MAX];
    struct bundle_reader *r;
    struct bundle_entry e;
    struct member m;

    make_big(&big, 50000);
    m.name = "big.sql";
    m.data = big.data;
    m.len = big.len;
    unit_path(path, f->dir, "whole.bundle");
    unit_path(cut, f->dir, "cut.bundle");
    write_bundle(path, CODEC_NONE, &m, 1);
    unit_read_file(path, &whole);
    unit_write_file(cut, whole.data, 512 + 20000, 0644);
    r = bundle_reader_open(cut, &err);
    assert_non_null(r);
    assert_int_equal(bundle_reader_next(r, &e, &err), 1);
    assert_int_equal(e.size, 50000);
    assert_int_equal(read_entry(r, &data, &err), -1);
    assert_true(data.len <= 20000);
    assert_contains(err.msg, "the archive is truncated (it ends inside a member's data)");
    bundle_reader_close(r);
    buf_release(&big);
    buf_release(&whole);
    buf_release(&data);
}

static void
test_bundle_reader_sees_content_after_the_end(void **state)
{
    static const struct member members[] = {{"MANIFEST", "m\n", 2}};
    static const struct member second[] = {{"extra.sql", "evil\n", 5}};
    struct fixture *f = *state;
    struct buf one = BUF_INIT, two = BUF_INIT, joined = BUF_INIT, junk = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    char p1[UNIT_PATH_MAX], p2[UNIT_PATH_MAX], pj[UNIT_PATH_MAX];
    struct bundle_reader *r;
    struct bundle_entry e;
    char tmp[16];

    unit_path(p1, f->dir, "one.tar");
    unit_path(p2, f->dir, "two.tar");
    unit_path(pj, f->dir, "joined.tar");
    write_bundle(p1, CODEC_NONE, members, 1);
    write_bundle(p2, CODEC_NONE, second, 1);
    unit_read_file(p1, &one);
    unit_read_file(p2, &two);

    /* A second archive after the end-of-archive marker is data after the end of the first. */
    buf_add(&joined, one.data, one.len);
    buf_add(&joined, two.data, two.len);
    unit_write_file(pj, joined.data, joined.len, 0644);
    r = bundle_reader_open(pj, &err);
    assert_non_null(r);
    assert_int_equal(bundle_reader_next(r, &e, &err), 1);
    assert_string_equal(e.name, "MANIFEST");
    assert_int_equal(bundle_reader_read(r, tmp, sizeof(tmp), &err), 2);
    assert_int_equal(bundle_reader_next(r, &e, &err), -1);
    assert_contains(err.msg, "data after the end of the archive (non-zero byte at offset");
    bundle_reader_close(r);

    /* Junk after the end is an error, not a quiet end of archive. */
    buf_add(&junk, one.data, one.len);
    for (int i = 0; i < 1024; i++)
        buf_addch(&junk, 'x');
    unit_write_file(pj, junk.data, junk.len, 0644);
    r = bundle_reader_open(pj, &err);
    assert_non_null(r);
    assert_int_equal(bundle_reader_next(r, &e, &err), 1);
    assert_int_equal(bundle_reader_read(r, tmp, sizeof(tmp), &err), 2);
    assert_int_equal(bundle_reader_next(r, &e, &err), -1);
    assert_contains(err.msg, "data after the end of the archive (non-zero byte at offset");
    bundle_reader_close(r);
    buf_release(&one);
    buf_release(&two);
    buf_release(&joined);
    buf_release(&junk);
}

/* Recompute a ustar header's checksum field (six octal digits, NUL, space) after an edit. */
static void
fix_checksum(unsigned char *h)
{
    unsigned sum = 0;

    memset(h + 148, ' ', 8);
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
}

/*
 * Byte-level edits that libarchive alone lets pass (padding is skipped, any regular-file
 * typeflag is taken, the checksum field's terminator is not covered, ...): each must be
 * refused, so that no byte of a bundle changes unnoticed.
 */
static void
test_bundle_reader_refuses_what_libarchive_lets_pass(void **state)
{
    /* Member 1 "a.sql" (header at 0, 5 data bytes at 512), member 2 "b.sql" at 1024. */
    static const struct {
        const char *what;
        size_t off;    /* byte to set (SIZE_MAX: none) */
        int value;     /* its new value */
        int recompute; /* fix the header checksum at this header offset + 1 (0: no) */
        size_t cut;    /* keep only this many bytes (0: all), or */
        size_t append; /* add this many zero bytes */
        const char *expect;
    } cases[] = {
        {"padding after a member", 512 + 5, 'x', 0, 0, 0,
         "non-zero byte in the padding after member \"a.sql\" (offset 517)"},
        {"last padding byte", 1023, 1, 0, 0, 0, "padding after member \"a.sql\" (offset 1023)"},
        {"checksum terminator", 155, '!', 0, 0, 0,
         "tar header at offset 0 (member \"a.sql\"): damaged header (checksum field)"},
        {"checksum NUL", 154, ' ', 0, 0, 0, "damaged header (checksum field)"},
        {"typeflag 7 (contiguous)", 1024 + 156, '7', 1025, 0, 0,
         "member \"b.sql\"): typeflag is not '0' (a plain regular file)"},
        {"typeflag NUL (old regular)", 1024 + 156, 0, 1025, 0, 0, "typeflag is not '0'"},
        {"prefix field", 1024 + 345, 'm', 1025, 0, 0, "prefix field is not empty"},
        {"base-256 size", 1024 + 124, 0x80, 1025, 0, 0, "size field is not octal"},
        {"setuid mode", 1024 + 102, '4', 1025, 0, 0, "mode is not 0644"},
        {"uid 1", 1024 + 114, '1', 1025, 0, 0, "owner is not uid 0, gid 0"},
        {"link name", 1024 + 157, 'x', 1025, 0, 0, "link target set"},
        {"GNU magic", 1024 + 262, ' ', 1025, 0, 0, "not a plain ustar header (magic)"},
        {"bytes after the name's NUL", 1024 + 50, 'x', 1025, 0, 0,
         "member \"b.sql\"): bytes after the name, or in the link name, prefix or pad fields"},
        {"bytes in the header's pad", 1024 + 511, 'x', 1025, 0, 0, "pad fields"},
        /* Its first block is not zero: read as a header, a damaged one. */
        {"junk in the end-of-archive marker", 2048 + 100, 'j', 0, 0, 0,
         "tar header at offset 2048 (member \"\"): damaged header"},
        {"junk in its second block", 2560 + 100, 'j', 0, 0, 0,
         "data after the end of the archive (non-zero byte at offset 2660)"},
        {"junk in the record padding", 10239, 'j', 0, 0, 0,
         "data after the end of the archive (non-zero byte at offset 10239)"},
        {"no end-of-archive marker", SIZE_MAX, 0, 0, 2048, 0,
         "the archive ends without its end-of-archive marker"},
        {"half a marker", SIZE_MAX, 0, 0, 2048 + 512, 0, "one zero block of two"},
        {"a short record", SIZE_MAX, 0, 0, 5000, 0,
         "the archive is truncated (its last 10240-byte record is incomplete)"},
        {"a zero block more", SIZE_MAX, 0, 0, 0, 512, "data after the end of the archive"},
        {"a zero record more", SIZE_MAX, 0, 0, 0, 10240, "data after the end of the archive"},
    };
    static const struct member members[] = {{"a.sql", "hello", 5}, {"b.sql", "world\n", 6}};
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX], bad[UNIT_PATH_MAX];
    struct buf whole = BUF_INIT;
    int failures = 0;

    unit_path(path, f->dir, "good.tar");
    unit_path(bad, f->dir, "bad.tar");
    write_bundle(path, CODEC_NONE, members, 2);
    unit_read_file(path, &whole);
    assert_int_equal(whole.len, 10240);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b = BUF_INIT, data = BUF_INIT;
        struct diag_err err = DIAG_ERR_INIT;
        struct bundle_reader *r;
        struct bundle_entry e;
        int ret = -1;

        buf_add(&b, whole.data, cases[i].cut ? cases[i].cut : whole.len);
        for (size_t z = 0; z < cases[i].append; z++)
            buf_addch(&b, '\0');
        if (cases[i].off != SIZE_MAX)
            b.data[cases[i].off] = (char)cases[i].value;
        if (cases[i].recompute)
            fix_checksum((unsigned char *)b.data + cases[i].recompute - 1);
        unit_write_file(bad, b.data, b.len, 0644);
        r = bundle_reader_open(bad, &err);
        if (r != NULL) {
            while ((ret = bundle_reader_next(r, &e, &err)) == 1) {
                buf_reset(&data);
                if ((ret = read_entry(r, &data, &err)) != 0)
                    break;
            }
            bundle_reader_close(r);
        }
        failures += refusal_missed(cases[i].what, ret == 0, err.msg, cases[i].expect);
        buf_release(&b);
        buf_release(&data);
    }
    buf_release(&whole);
    assert_int_equal(failures, 0);
}

static void
test_bundle_reader_limit(void **state)
{
    struct fixture *f = *state;
    struct buf big = BUF_INIT, data = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    char path[UNIT_PATH_MAX];
    struct bundle_reader *r;
    struct bundle_entry e;
    struct member m;
    int ret;

    make_big(&big, 2 * 1024 * 1024);
    m.name = "big.sql";
    m.data = big.data;
    m.len = big.len;
    unit_path(path, f->dir, "big.bundle");
    write_bundle(path, CODEC_ZSTD, &m, 1);
    r = bundle_reader_open(path, &err);
    assert_non_null(r);
    bundle_reader_set_limit(r, 1024 * 1024);
    ret = bundle_reader_next(r, &e, &err);
    if (ret == 1)
        ret = read_entry(r, &data, &err);
    assert_int_equal(ret, -1);
    assert_contains(err.msg, "archive holds more data than its manifest allows");
    assert_true(data.len < big.len);
    bundle_reader_close(r);
    buf_release(&big);
    buf_release(&data);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bundle_write_read_round_trip, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_bundle_output_is_reproducible, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_bundle_writer_refuses_long_name, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_bundle_writer_replaces_atomically, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_bundle_reader_open_errors, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_bundle_reader_refuses_hostile_archives, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_bundle_reader_refuses_truncated_member, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_bundle_reader_sees_content_after_the_end, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_bundle_reader_refuses_what_libarchive_lets_pass,
                                        setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_bundle_reader_limit, setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_bundle_writer_refuses_special_output, setup_tmpdir,
                                        teardown_tmpdir),
    };

    return cmocka_run_group_tests_name("bundle", tests, NULL, NULL);
}
