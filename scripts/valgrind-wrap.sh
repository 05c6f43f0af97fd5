#!/bin/sh
# SPDX-License-Identifier: MIT
# A `meson test --wrapper`: compiled test programs run under Valgrind's
# memcheck (any error, a definite leak: exit status 1); test scripts run as
# they are (Valgrind would only check the shell).
#   valgrind-wrap.sh PROGRAM [ARG...]
if [ "$(head -c 4 "$1" 2>/dev/null | tr -d '\177')" = ELF ]; then
    exec valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite --track-fds=yes "$@"
fi
exec "$@"
