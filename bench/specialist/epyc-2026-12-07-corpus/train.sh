#!/bin/sh
# The specialist of both corpora: the Xeon's (../xeon-2026-12-07/corpus.db,
# seeds 1000-1047) and this machine's (corpus.db, seeds 1048-1095), with
# `colt train`'s defaults. Writes specialist.gguf and specialist.gguf.report/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
colt train --db ../xeon-2026-12-07/corpus.db --db corpus.db --out specialist.gguf --quiet
