/*
 * sessdir.c - the default directory of FileSession and DbmSession:
 * <DefaultRuntimeDir>/mod_python-sessions.
 *
 * It is made by the httpd parent at post_config, while it still runs as
 * root, mode 0700 and owned by the User the children run as.  The runtime
 * directory is httpd's own (root's, not writable by others), so no other
 * local user can create this directory first and fill it with pickles; the
 * Python side (mod_python.Session) checks it again before every use.
 * No Python in here: the parent never runs Python.
 */
#include "mp_common.h"
#include "mp_sessdir.h"
#include "unixd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *sessdir_path = NULL;   /* set in the parent, inherited */

static apr_status_t forget_path(void *data)
{
    (void)data;
    sessdir_path = NULL;
    return APR_SUCCESS;
}

/* What is wrong with an existing directory (NULL if nothing); `owner` is
 * the uid it should belong to (root is accepted too). */
static const char *problem(apr_pool_t *p, const struct stat *st, uid_t owner)
{
    if (S_ISLNK(st->st_mode))
        return "it is a symbolic link";
    if (!S_ISDIR(st->st_mode))
        return "it is not a directory";
    if (st->st_uid != owner && st->st_uid != 0)
        return apr_psprintf(p, "it is owned by uid %ld, not by uid %ld or root",
                            (long)st->st_uid, (long)owner);
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return apr_psprintf(p, "it is writable by group or others (mode %04o)",
                            (unsigned)(st->st_mode & 07777));
    return NULL;
}

/* Make the directory (mode 0700) or open the one that is there, through a
 * descriptor (never through a path that could be swapped in between), check
 * it, and hand a new or root-owned one to the children's user.  NULL when
 * it is usable, else what is wrong. */
static const char *create_or_check(apr_pool_t *p, const char *path, uid_t uid, gid_t gid)
{
    struct stat st;
    const char *err = NULL;
    int made, fd;

    made = mkdir(path, 0700) == 0;
    if (!made && errno != EEXIST)
        return apr_psprintf(p, "cannot create it: %s", strerror(errno));
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ELOOP || (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)))
            return "it is a symbolic link";
        if (errno == ENOTDIR)
            return "it is not a directory";
        return apr_psprintf(p, "cannot open it: %s", strerror(errno));
    }
    if (fstat(fd, &st) != 0)
        err = apr_psprintf(p, "cannot stat it: %s", strerror(errno));
    else if ((err = problem(p, &st, uid)) == NULL && geteuid() == 0
             && st.st_uid == 0 && uid != 0) {
        if (fchown(fd, uid, gid) != 0)
            err = apr_psprintf(p, "cannot give it to uid %ld: %s", (long)uid,
                               strerror(errno));
        made = 1;
    }
    if (err == NULL && made && fchmod(fd, 0700) != 0)
        err = apr_psprintf(p, "cannot chmod it 0700: %s", strerror(errno));
    close(fd);
    return err;
}

void mp_sessdir_post_config(apr_pool_t *pconf, server_rec *s)
{
    const char *path = ap_runtime_dir_relative(pconf, MP_SESSDIR_NAME);
    uid_t uid = geteuid() == 0 ? ap_unixd_config.user_id : geteuid();
    gid_t gid = geteuid() == 0 ? ap_unixd_config.group_id : getegid();
    const char *err;

    forget_path(NULL);
    if (path == NULL)
        return;
    apr_pool_cleanup_register(pconf, NULL, forget_path, apr_pool_cleanup_null);
    sessdir_path = path;
    err = create_or_check(pconf, path, uid, gid);
    if (err != NULL)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, MP_APLOGNO(1000)
                     "session directory %s is unusable: %s; FileSession and DbmSession "
                     "without a configured directory will answer 500", path, err);
}

const char *mp_sessdir_path(void)
{
    return sessdir_path;
}
