#ifndef SYMPHONY_CPOSTGRES_SHIM_H
#define SYMPHONY_CPOSTGRES_SHIM_H

// libpq, PostgreSQL's own C client (Debian's libpq-dev).
#include <libpq-fe.h>

#endif
