/* SPDX-License-Identifier: MIT */
/*
 * SASL authentication (Cyrus SASL), as libvirt's client does it, and the
 * SASL security layer that wraps the connection's transport afterwards.
 * See auth.h for the rules followed.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sasl/sasl.h>

#include <virtrpc/consts.h>
#include <virtrpc/protocol.h>

#include "alloc.h"
#include "auth.h"
#include "conn-internal.h"
#include "error.h"
#include "tls.h"

/* libvirt's client: the data one sasl_encode may take, and our read size. */
#define SASL_BUFSIZE 65536u
/* Rounds of credential questions one start/step may ask before we give up. */
#define SASL_MAX_INTERACT 8

#define AUTH_ERR(err, dom, ...)                                                                    \
    vrpc_error_set(err, VRPC_ERR_AUTH_FAILED, dom, "authentication failed: " __VA_ARGS__)

/* ---- the library, once per process ---- */

static pthread_once_t sasl_once = PTHREAD_ONCE_INIT;
static int sasl_init_rc;

static void sasl_init_once(void)
{
    sasl_init_rc = sasl_client_init(NULL);
}

/*
 * The credentials we offer the mechanisms (virsh's set): interactions
 * (no procedure), so that every question comes back as SASL_INTERACT and
 * the application is asked once for all of them.
 */
static sasl_callback_t sasl_callbacks[] = {
    {SASL_CB_AUTHNAME, NULL, NULL},     {SASL_CB_PASS, NULL, NULL},
    {SASL_CB_GETREALM, NULL, NULL},     {SASL_CB_ECHOPROMPT, NULL, NULL},
    {SASL_CB_NOECHOPROMPT, NULL, NULL}, {SASL_CB_LIST_END, NULL, NULL},
};

static int cred_type(unsigned long id)
{
    switch (id) {
    case SASL_CB_USER:
        return VRPC_CRED_USERNAME;
    case SASL_CB_AUTHNAME:
        return VRPC_CRED_AUTHNAME;
    case SASL_CB_LANGUAGE:
        return VRPC_CRED_LANGUAGE;
    case SASL_CB_CNONCE:
        return VRPC_CRED_CNONCE;
    case SASL_CB_PASS:
        return VRPC_CRED_PASSPHRASE;
    case SASL_CB_ECHOPROMPT:
        return VRPC_CRED_ECHOPROMPT;
    case SASL_CB_NOECHOPROMPT:
        return VRPC_CRED_NOECHOPROMPT;
    case SASL_CB_GETREALM:
        return VRPC_CRED_REALM;
    default:
        return 0;
    }
}

/* The auth-file key libvirt reads for a question (NULL: none). */
static const char *file_key(unsigned long id)
{
    switch (id) {
    case SASL_CB_USER:
        return "username";
    case SASL_CB_AUTHNAME:
        return "authname";
    case SASL_CB_PASS:
        return "password";
    case SASL_CB_GETREALM:
        return "realm";
    default:
        return NULL;
    }
}

/* ---- credentials: auth file, then the application ---- */

typedef struct answers {
    const vrpc_target *t;
    vrpc_auth_cb cb;
    void *userdata;
    bool file_done; /* looked for the auth file */
    vrpc_authfile *file;
    /* Strings the current interaction points to: wiped and freed when the
     * next one starts (SASL reads them during the following start/step). */
    char **owned;    /* from the file (vrpc_free) or the application (free) */
    bool *owned_app; /* ... which of the two */
    size_t nowned;
} answers;

static void answers_clear(answers *a)
{
    size_t i;
    for (i = 0; i < a->nowned; i++)
        vrpc_auth_wipe_free(a->owned[i], a->owned_app[i] ? free : vrpc_free);
    vrpc_free(a->owned);
    vrpc_free(a->owned_app);
    a->owned = NULL;
    a->owned_app = NULL;
    a->nowned = 0;
}

static void answers_free(answers *a)
{
    answers_clear(a);
    vrpc_authfile_free(a->file);
    a->file = NULL;
}

/* Keep s (NULL-safe) until the next round; frees s on failure. */
static int answers_keep(answers *a, char *s, bool app)
{
    if (!s)
        return 0;
    a->owned[a->nowned] = s;
    a->owned_app[a->nowned] = app;
    a->nowned++;
    return 0;
}

/* Answer SASL's questions: the auth file first, then the callback. */
static int answers_fill(answers *a, sasl_interact_t *in, vrpc_error **err)
{
    vrpc_auth_cred *creds = NULL;
    size_t n = 0, i, k, ncred = 0;
    int rc;

    answers_clear(a);
    for (n = 0; in[n].id != SASL_CB_LIST_END; n++)
        ;
    /* Room for one file value and one application answer per question. */
    a->owned = vrpc_calloc(2 * n + 1, sizeof(*a->owned));
    a->owned_app = vrpc_calloc(2 * n + 1, sizeof(*a->owned_app));
    if (!a->owned || !a->owned_app)
        goto nomem;

    if (!a->file_done) {
        char *path = NULL;
        a->file_done = true;
        if (vrpc_authfile_find_for(a->t, &path))
            goto nomem;
        if (path) {
            rc = vrpc_authfile_load(path, &a->file, err);
            vrpc_free(path);
            if (rc)
                return rc;
        }
    }
    for (i = 0; i < n; i++) {
        const char *key = file_key(in[i].id);
        char *v = NULL;
        if (!a->file || !key)
            continue;
        rc = vrpc_authfile_lookup(a->file, "libvirt", a->t ? a->t->host : NULL, key, &v, err);
        if (rc)
            return rc;
        if (v) {
            answers_keep(a, v, false);
            in[i].result = v;
            in[i].len = (unsigned)strlen(v);
        }
    }

    for (i = 0; i < n; i++)
        if (!in[i].result)
            ncred++;
    if (ncred == 0)
        return 0;
    creds = vrpc_calloc(ncred, sizeof(*creds));
    if (!creds)
        goto nomem;
    for (i = 0, k = 0; i < n; i++) {
        if (in[i].result)
            continue;
        creds[k].type = cred_type(in[i].id);
        if (!creds[k].type) {
            vrpc_free(creds);
            AUTH_ERR(err, VRPC_FROM_REMOTE, "Failed to make auth credentials");
            return VRPC_E_AUTH;
        }
        creds[k].prompt = in[i].prompt;
        creds[k].challenge = in[i].challenge;
        creds[k].defresult = in[i].defresult;
        k++;
    }
    if (!a->cb) {
        vrpc_free(creds);
        AUTH_ERR(err, VRPC_FROM_REMOTE, "No authentication callback available");
        return VRPC_E_AUTH;
    }
    if (a->cb(creds, ncred, a->userdata) < 0) {
        for (k = 0; k < ncred; k++)
            vrpc_auth_wipe_free(creds[k].result, free);
        vrpc_free(creds);
        AUTH_ERR(err, VRPC_FROM_REMOTE, "Failed to collect auth credentials");
        return VRPC_E_AUTH;
    }
    for (i = 0, k = 0; i < n; i++) {
        const char *v;
        if (in[i].result)
            continue;
        answers_keep(a, creds[k].result, true);
        v = creds[k].result ? creds[k].result : in[i].defresult ? in[i].defresult : "";
        in[i].result = v;
        in[i].len = (unsigned)(creds[k].result ? strlen(creds[k].result) : strlen(v));
        k++;
    }
    vrpc_free(creds);
    return 0;

nomem:
    vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_AUTH, "out of memory");
    return VRPC_E_NOMEM;
}

/* ---- the security layer ---- */

typedef struct sasl_transport {
    vrpc_transport base;
    vrpc_transport *inner;
    sasl_conn_t *sc;
    size_t maxout; /* raw bytes per sasl_encode (SASL_MAXOUTBUF) */
    /* Encoded output not yet written, for enc_raw bytes of the caller's. */
    uint8_t *enc;
    size_t enc_len, enc_off, enc_cap, enc_raw;
    /* Decoded input not yet returned. */
    uint8_t *dec;
    size_t dec_len, dec_off, dec_cap;
    uint8_t *wire; /* SASL_BUFSIZE bytes read from the inner transport */
} sasl_transport;

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    uint8_t *n;
    if (*cap >= need)
        return 0;
    n = vrpc_realloc(*buf, need);
    if (!n)
        return VRPC_E_NOMEM;
    *buf = n;
    *cap = need;
    return 0;
}

static ssize_t sasl_tr_read(vrpc_transport *tr, void *buf, size_t len, int *fds, size_t *nfds,
                            size_t maxfds, vrpc_error **err)
{
    sasl_transport *t = (sasl_transport *)tr;
    size_t k;

    while (t->dec_off == t->dec_len) {
        const char *out = NULL;
        unsigned outlen = 0;
        ssize_t n = t->inner->ops->read(t->inner, t->wire, SASL_BUFSIZE, fds, nfds, maxfds, err);
        int r;
        if (n <= 0)
            return n;
        r = sasl_decode(t->sc, (const char *)t->wire, (unsigned)n, &out, &outlen);
        if (r != SASL_OK) {
            vrpc_error_set(err, VRPC_ERR_INTERNAL_ERROR, VRPC_FROM_RPC,
                           "internal error: failed to decode SASL data: %d (%s)", r,
                           sasl_errstring(r, NULL, NULL));
            return VRPC_E_PROTO;
        }
        if (outlen == 0)
            continue; /* a partial block: read on */
        if (grow(&t->dec, &t->dec_cap, outlen)) {
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory for SASL data");
            return VRPC_E_NOMEM;
        }
        memcpy(t->dec, out, outlen);
        t->dec_len = outlen;
        t->dec_off = 0;
    }
    k = t->dec_len - t->dec_off;
    if (k > len)
        k = len;
    memcpy(buf, t->dec + t->dec_off, k);
    t->dec_off += k;
    if (t->dec_off == t->dec_len)
        t->dec_off = t->dec_len = 0;
    return (ssize_t)k;
}

/*
 * Encode at most maxout bytes, write the encoded block; report the raw
 * bytes only once the whole block is out (until then VRPC_E_AGAIN, and the
 * core calls again with the same bytes, as it always does).
 */
static ssize_t sasl_tr_write(vrpc_transport *tr, const void *buf, size_t len, vrpc_error **err)
{
    sasl_transport *t = (sasl_transport *)tr;
    size_t raw;

    if (t->enc_len == 0) {
        const char *out = NULL;
        unsigned outlen = 0;
        int r;
        raw = len < t->maxout ? len : t->maxout;
        r = sasl_encode(t->sc, buf, (unsigned)raw, &out, &outlen);
        if (r != SASL_OK) {
            vrpc_error_set(err, VRPC_ERR_INTERNAL_ERROR, VRPC_FROM_RPC,
                           "internal error: failed to encode SASL data: %d (%s)", r,
                           sasl_errstring(r, NULL, NULL));
            return VRPC_E_PROTO;
        }
        if (grow(&t->enc, &t->enc_cap, outlen ? outlen : 1)) {
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory for SASL data");
            return VRPC_E_NOMEM;
        }
        memcpy(t->enc, out, outlen);
        t->enc_len = outlen;
        t->enc_off = 0;
        t->enc_raw = raw;
    } else if (len < t->enc_raw) {
        vrpc_error_set(err, VRPC_ERR_INTERNAL_ERROR, VRPC_FROM_RPC,
                       "internal error: SASL layer: a pending block of %zu bytes, asked for %zu",
                       t->enc_raw, len);
        return VRPC_E_PROTO;
    }
    while (t->enc_off < t->enc_len) {
        ssize_t n =
            t->inner->ops->write(t->inner, t->enc + t->enc_off, t->enc_len - t->enc_off, err);
        if (n < 0)
            return n; /* VRPC_E_AGAIN included */
        t->enc_off += (size_t)n;
    }
    raw = t->enc_raw;
    t->enc_len = t->enc_off = t->enc_raw = 0;
    return (ssize_t)raw;
}

static size_t sasl_tr_pending(vrpc_transport *tr)
{
    sasl_transport *t = (sasl_transport *)tr;
    size_t n = t->dec_len - t->dec_off;
    if (t->inner->ops->pending)
        n += t->inner->ops->pending(t->inner);
    return n;
}

static short sasl_tr_events(vrpc_transport *tr, short want)
{
    sasl_transport *t = (sasl_transport *)tr;
    return t->inner->ops->events ? t->inner->ops->events(t->inner, want) : want;
}

static int sasl_tr_fd(const vrpc_transport *tr)
{
    const sasl_transport *t = (const sasl_transport *)tr;
    return t->inner->ops->fd(t->inner);
}

static void sasl_tr_close(vrpc_transport *tr)
{
    sasl_transport *t = (sasl_transport *)tr;
    if (t->sc)
        sasl_dispose(&t->sc);
    if (t->inner)
        t->inner->ops->close(t->inner);
    if (t->dec)
        explicit_bzero(t->dec, t->dec_cap);
    vrpc_free(t->dec);
    vrpc_free(t->enc);
    vrpc_free(t->wire);
    vrpc_free(t->base.peer);
    vrpc_free(t);
}

static const vrpc_transport_ops sasl_ops = {
    .name = "sasl",
    .read = sasl_tr_read,
    .write = sasl_tr_write,
    .send_fd = NULL,
    .pending = sasl_tr_pending,
    .events = sasl_tr_events,
    .fd = sasl_tr_fd,
    .close = sasl_tr_close,
};

typedef struct layer_ctx {
    sasl_conn_t *sc;
    size_t maxout;
} layer_ctx;

/* vrpc_conn_push_layer's wrap: the layer takes the SASL session on success. */
static int sasl_wrap(vrpc_transport *inner, void *opaque, vrpc_transport **out, vrpc_error **err)
{
    layer_ctx *lc = opaque;
    sasl_transport *t = vrpc_calloc(1, sizeof(*t));

    if (!t || !(t->wire = vrpc_malloc(SASL_BUFSIZE)) ||
        !(t->base.peer = vrpc_strdup(inner->peer ? inner->peer : "?"))) {
        if (t) {
            vrpc_free(t->wire);
            vrpc_free(t);
        }
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory for the SASL layer");
        return VRPC_E_NOMEM;
    }
    t->base.ops = &sasl_ops;
    t->inner = inner;
    t->sc = lc->sc;
    t->maxout = lc->maxout;
    lc->sc = NULL;
    *out = &t->base;
    return 0;
}

/* ---- the exchange ---- */

/* "IP;PORT" of a socket, as libvirt formats it for SASL. NULL: unknown. */
static char *addr_string(int fd, bool local)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST], serv[NI_MAXSERV], buf[NI_MAXHOST + NI_MAXSERV + 2];

    if (fd < 0)
        return NULL;
    if ((local ? getsockname(fd, (struct sockaddr *)&ss, &len)
               : getpeername(fd, (struct sockaddr *)&ss, &len)) < 0)
        return NULL;
    if (ss.ss_family == AF_UNIX)
        return vrpc_strdup("127.0.0.1;0");
    if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return NULL;
    snprintf(buf, sizeof(buf), "%s;%s", host, serv);
    return vrpc_strdup(buf);
}

static bool channel_secure(vrpc_transport_kind k)
{
    return k == VRPC_TRANSPORT_TLS || k == VRPC_TRANSPORT_UNIX || k == VRPC_TRANSPORT_SSH ||
           k == VRPC_TRANSPORT_LIBSSH || k == VRPC_TRANSPORT_LIBSSH2;
}

/* Start (mech_out != NULL) or step, answering questions as they come. */
static int sasl_run(sasl_conn_t *sc, answers *a, const char *mechlist, const char *in,
                    unsigned inlen, const char **out, unsigned *outlen, const char **mech_out,
                    vrpc_error **err)
{
    sasl_interact_t *need = NULL; /* handed back to SASL with our answers */
    int round, r, rc;

    for (round = 0;; round++) {
        *out = NULL;
        *outlen = 0;
        if (mech_out)
            r = sasl_client_start(sc, mechlist, &need, out, outlen, mech_out);
        else
            r = sasl_client_step(sc, in, inlen, &need, out, outlen);
        if (r != SASL_INTERACT)
            break;
        if (round >= SASL_MAX_INTERACT || !need) {
            free(need);
            AUTH_ERR(err, VRPC_FROM_REMOTE, "the SASL mechanism keeps asking for credentials");
            return VRPC_E_AUTH;
        }
        rc = answers_fill(a, need, err);
        if (rc) {
            /* The mechanism frees its questions on the next call only,
             * which will not come (they come from SASL's default
             * allocator, malloc). */
            free(need);
            return rc;
        }
    }
    if (r != SASL_OK && r != SASL_CONTINUE) {
        AUTH_ERR(err, VRPC_FROM_RPC, "Failed to %s SASL negotiation: %d (%s)",
                 mech_out ? "start" : "step", r, sasl_errdetail(sc));
        return VRPC_E_AUTH;
    }
    if (*outlen > VRPC_AUTH_SASL_DATA_MAX) {
        AUTH_ERR(err, VRPC_FROM_REMOTE, "SASL negotiation data too long: %u bytes", *outlen);
        return VRPC_E_AUTH;
    }
    return r == SASL_OK ? 1 : 0;
}

int vrpc_sasl_authenticate(vrpc_conn *c, const vrpc_target *t, const char *wantmech,
                           vrpc_auth_cb cb, void *userdata, vrpc_error **err)
{
    answers a = {.t = t, .cb = cb, .userdata = userdata};
    vrpc_auth_sasl_init_ret *iret = NULL;
    vrpc_auth_sasl_start_args sargs;
    vrpc_auth_sasl_start_ret *sret = NULL;
    vrpc_auth_sasl_step_args pargs;
    vrpc_auth_sasl_step_ret *pret = NULL;
    char *local = NULL, *remote = NULL;
    const char *mechlist, *mech = NULL, *out, *serverin;
    unsigned outlen, serverinlen;
    sasl_conn_t *sc = NULL;
    sasl_security_properties_t secprops;
    bool secure = channel_secure(t->transport);
    int r, rc, done, complete, steps, ssf = 0, tls_ssf = -1, fd = -1;

    pthread_once(&sasl_once, sasl_init_once);
    if (sasl_init_rc != SASL_OK) {
        AUTH_ERR(err, VRPC_FROM_RPC, "failed to initialize SASL library: %d (%s)", sasl_init_rc,
                 sasl_errstring(sasl_init_rc, NULL, NULL));
        return VRPC_E_AUTH;
    }

    pthread_mutex_lock(&c->lock);
    if (c->tr) {
        fd = c->tr->ops->fd(c->tr);
        if (t->transport == VRPC_TRANSPORT_TLS)
            tls_ssf = vrpc_transport_tls_ssf(c->tr);
    }
    pthread_mutex_unlock(&c->lock);

    /* libvirt: the socket's addresses; none through a child process. */
    if (t->transport == VRPC_TRANSPORT_UNIX) {
        local = vrpc_strdup("127.0.0.1;0");
        remote = vrpc_strdup("127.0.0.1;0");
    } else if (t->transport == VRPC_TRANSPORT_TCP || t->transport == VRPC_TRANSPORT_TLS) {
        local = addr_string(fd, true);
        remote = addr_string(fd, false);
    }
    r = sasl_client_new("libvirt", t->host ? t->host : "localhost", local, remote, sasl_callbacks,
                        SASL_SUCCESS_DATA, &sc);
    vrpc_free(local);
    vrpc_free(remote);
    if (r != SASL_OK) {
        AUTH_ERR(err, VRPC_FROM_RPC, "Failed to create SASL client context: %d (%s)", r,
                 sasl_errstring(r, NULL, NULL));
        return VRPC_E_AUTH;
    }

    if (t->transport == VRPC_TRANSPORT_TLS) {
        sasl_ssf_t ext;
        if (tls_ssf < 0) {
            vrpc_error_set(err, VRPC_ERR_INTERNAL_ERROR, VRPC_FROM_RPC,
                           "internal error: authentication: the TLS key size is unknown");
            rc = VRPC_E_AUTH;
            goto out;
        }
        ext = (sasl_ssf_t)tls_ssf;
        r = sasl_setprop(sc, SASL_SSF_EXTERNAL, &ext);
        if (r != SASL_OK) {
            vrpc_error_set(err, VRPC_ERR_INTERNAL_ERROR, VRPC_FROM_RPC,
                           "internal error: cannot set external SSF %d (%s)", r,
                           sasl_errstring(r, NULL, NULL));
            rc = VRPC_E_AUTH;
            goto out;
        }
    }
    memset(&secprops, 0, sizeof(secprops));
    secprops.min_ssf = secure ? 0 : 56;     /* DES, as libvirt */
    secprops.max_ssf = secure ? 0 : 100000; /* anything */
    secprops.maxbufsize = SASL_BUFSIZE;
    secprops.security_flags = secure ? 0 : SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT;
    r = sasl_setprop(sc, SASL_SEC_PROPS, &secprops);
    if (r != SASL_OK) {
        vrpc_error_set(err, VRPC_ERR_INTERNAL_ERROR, VRPC_FROM_RPC,
                       "internal error: cannot set security props %d (%s)", r,
                       sasl_errstring(r, NULL, NULL));
        rc = VRPC_E_AUTH;
        goto out;
    }

    rc = vrpc_call(c, &vrpc_pd_auth_sasl_init, NULL, (void **)&iret, err);
    if (rc)
        goto out;
    mechlist = iret->mechlist;
    if (wantmech) {
        if (!strstr(mechlist, wantmech)) {
            AUTH_ERR(err, VRPC_FROM_REMOTE, "SASL mechanism %s not supported by server", wantmech);
            rc = VRPC_E_AUTH;
            goto out;
        }
        mechlist = wantmech;
    }

    rc = sasl_run(sc, &a, mechlist, NULL, 0, &out, &outlen, &mech, err);
    if (rc < 0)
        goto out;
    done = rc;
    /* NULL and "" differ in SASL: nil says which. */
    memset(&sargs, 0, sizeof(sargs));
    sargs.mech = (char *)mech;
    sargs.nil = out ? 0 : 1;
    sargs.data.n = outlen;
    sargs.data.items = (char *)out;
    rc = vrpc_call(c, &vrpc_pd_auth_sasl_start, &sargs, (void **)&sret, err);
    if (rc)
        goto out;
    complete = sret->complete;
    serverin = sret->nil ? NULL : sret->data.items;
    serverinlen = sret->data.n;

    /* The client always steps at least once unless both sides completed. */
    for (steps = 1; !(complete && done); steps++) {
        rc = sasl_run(sc, &a, NULL, serverin, serverinlen, &out, &outlen, NULL, err);
        if (rc < 0)
            goto out;
        done = rc;
        if (complete && done)
            break;
        if (steps >= VRPC_SASL_MAX_STEPS) {
            AUTH_ERR(err, VRPC_FROM_REMOTE,
                     "the SASL negotiation did not complete after %d round trips", steps);
            rc = VRPC_E_AUTH;
            goto out;
        }
        memset(&pargs, 0, sizeof(pargs));
        pargs.nil = out ? 0 : 1;
        pargs.data.n = outlen;
        pargs.data.items = (char *)out;
        vrpc_free(pret);
        pret = NULL;
        rc = vrpc_call(c, &vrpc_pd_auth_sasl_step, &pargs, (void **)&pret, err);
        if (rc)
            goto out;
        complete = pret->complete;
        serverin = pret->nil ? NULL : pret->data.items;
        serverinlen = pret->data.n;
    }

    {
        const void *v = NULL;
        r = sasl_getprop(sc, SASL_SSF, &v);
        if (r != SASL_OK || !v) {
            AUTH_ERR(err, VRPC_FROM_RPC, "cannot query SASL ssf on connection %d (%s)", r,
                     sasl_errstring(r, NULL, NULL));
            rc = VRPC_E_AUTH;
            goto out;
        }
        ssf = (int)*(const sasl_ssf_t *)v;
    }
    if (!secure && ssf < 56) {
        AUTH_ERR(err, VRPC_FROM_REMOTE, "negotiation SSF %d was not strong enough", ssf);
        rc = VRPC_E_AUTH;
        goto out;
    }
    if (ssf > 0) {
        layer_ctx lc = {.sc = sc, .maxout = SASL_BUFSIZE};
        const void *v = NULL;
        if (sasl_getprop(sc, SASL_MAXOUTBUF, &v) == SASL_OK && v && *(const unsigned *)v > 0)
            lc.maxout = *(const unsigned *)v;
        rc = vrpc_conn_push_layer(c, sasl_wrap, &lc, err);
        sc = lc.sc; /* NULL once the layer owns it */
        if (rc)
            goto out;
    }
    rc = 0;

out:
    if (sc)
        sasl_dispose(&sc);
    answers_free(&a);
    vrpc_free(iret);
    vrpc_free(sret);
    vrpc_free(pret);
    return rc;
}
