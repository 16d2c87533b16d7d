/*
 * fuzz_hline.c - libFuzzer target for the handler-line grammar and the
 * directory bookkeeping of src/config.c (directives handled in httpd's
 * configuration pass, looked up per request), with the directive checks of
 * src/config_check.c (handler names, PythonOption values, the PythonPath
 * expression scanner).
 *
 * Input: byte 0 picks the directive, byte 1 the enclosing section, the
 * rest is "section args\ndirective args\nfilename".  The directive is
 * applied to a fresh per-directory configuration inside a fake section
 * (or at server level, or as from a .htaccess file), that configuration
 * is merged onto a server default, and every phase is then looked up for
 * the filename the way the dispatcher does (handler list by extension,
 * directory of each handler resolved against the filename).
 *
 * Licensed under the Apache License, Version 2.0 (see LICENSE).
 */
#include "mp_common.h"
#include "mp_config.h"
#include "fuzz_common.h"

static const char *const sections[] = {
    NULL, NULL /* .htaccess */, "<Location", "<LocationMatch", "<Directory",
    "<DirectoryMatch", "<Files" /* inside <Directory */, "<VirtualHost",
};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

static const char *next_line(apr_pool_t *p, const char **s, const char *end)
{
    const char *nl = memchr(*s, '\n', (size_t)(end - *s));
    const char *line;

    if (nl == NULL)
        nl = end;
    line = apr_pstrmemdup(p, *s, (apr_size_t)(nl - *s));
    *s = nl < end ? nl + 1 : end;
    return line;
}

static const char *apply(cmd_parms *cmd, mp_dir_cfg *dc, int which, int phase,
                         const char *args)
{
    static command_rec crec;
    static const mp_filter_kind in_kind = {1, NULL, NULL}, out_kind = {0, NULL, NULL};
    const char *w1, *w2, *rest = args;

    cmd->cmd = &crec;
    switch (which % 7) {
    case 0:
        crec.name = mp_phase_names[phase];
        return mp_cmd_handler(cmd, dc, args);
    case 1:
        crec.name = "PythonHandlerModule";
        return mp_cmd_handler_module(cmd, dc, args);
    case 2:
        crec.name = (which & 8) ? "PythonInputFilter" : "PythonOutputFilter";
        cmd->info = (void *)((which & 8) ? &in_kind : &out_kind);
        w1 = ap_getword_conf(cmd->pool, &rest);
        w2 = ap_getword_conf(cmd->pool, &rest);
        return mp_cmd_filter(cmd, dc, w1, *w2 ? w2 : NULL);
    case 3:
        crec.name = "PythonConnectionHandler";
        return mp_cmd_connection_handler(cmd, dc, args);
    case 4:
        crec.name = "PythonOption";
        w1 = ap_getword_conf(cmd->pool, &rest);
        return mp_cmd_option(cmd, dc, w1, *rest ? rest : NULL);
    case 5:                               /* the expression checker */
        crec.name = "PythonPath";
        return mp_cmd_path(cmd, dc, args);
    default:
        crec.name = "PythonImport";
        w1 = ap_getword_conf(cmd->pool, &rest);
        w2 = ap_getword_conf(cmd->pool, &rest);
        return mp_cmd_import(cmd, dc, w1, w2);
    }
}

static void lookups(apr_pool_t *p, const mp_dir_cfg *dc, const char *filename)
{
    int phase;

    for (phase = 0; phase < MP_PHASE_COUNT; phase++) {
        const char *ext;
        const mp_handler *h = mp_config_phase_handlers(dc, phase, filename, &ext);

        for (; h != NULL; h = h->next) {
            const char *d = mp_resolve_directory(p, h, filename);

            if (h->handler == NULL || (d != NULL && strlen(d) > (size_t)1 << 20))
                abort();
        }
    }
    (void)mp_filename_extension(p, filename);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s = (const char *)data, *end = s + size;
    const char *secargs, *args, *filename;
    ap_directive_t top, section, directive;
    cmd_parms cmd;
    server_rec server;
    void *srv_vec[1];
    mp_dir_cfg *base, *dc;
    int which, kind;

    if (size < 2)
        return 0;
    which = data[0];
    kind = data[1] % NSECTIONS;
    s += 2;
    apr_pool_create(&p, fuzz_pool());
    secargs = next_line(p, &s, end);
    args = next_line(p, &s, end);
    filename = next_line(p, &s, end);

    python_module.module_index = 0;       /* srv_vec[0] */
    memset(&server, 0, sizeof(server));
    memset(&cmd, 0, sizeof(cmd));
    memset(&top, 0, sizeof(top));
    memset(&section, 0, sizeof(section));
    memset(&directive, 0, sizeof(directive));
    server.module_config = (ap_conf_vector_t *)srv_vec;
    srv_vec[0] = mp_create_srv_config(p, &server);
    cmd.pool = cmd.temp_pool = p;
    cmd.server = &server;
    cmd.directive = &directive;
    directive.filename = "/srv/www/.htaccess";
    directive.line_num = 1;
    if (kind == 1) {                      /* .htaccess: a path, no overrides */
        cmd.path = apr_pstrcat(p, "/srv/", secargs, NULL);
        cmd.override = OR_ALL;
    }
    else if (kind >= 2) {
        section.directive = sections[kind];
        section.args = apr_pstrcat(p, secargs, ">", NULL);
        directive.parent = &section;
        cmd.path = apr_pstrdup(p, secargs);
        cmd.override = ACCESS_CONF;
        if (kind == 6) {                  /* <Files> inside <Directory> */
            top.directive = "<Directory";
            top.args = "/srv/www/>";
            section.parent = &top;
        }
    }
    base = mp_create_dir_config(p, NULL);
    dc = mp_create_dir_config(p, cmd.path ? (char *)cmd.path : NULL);
    (void)apply(&cmd, dc, which, (which >> 3) % MP_PHASE_COUNT, args);
    lookups(p, mp_merge_dir_config(p, base, dc), filename);
    lookups(p, mp_merge_dir_config(p, dc, dc), filename);
    (void)mp_merge_srv_config(p, srv_vec[0], mp_create_srv_config(p, &server));
    apr_pool_destroy(p);
    return 0;
}
