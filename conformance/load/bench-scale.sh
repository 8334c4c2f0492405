#!/usr/bin/env bash
# Measures stores filled by cmd/relais-seed (issue 19: data at national
# scale) against empty stores, back to back, with bench-stores.sh: every
# scenario on the seeded store, then on an empty one in the same
# conditions, store by store. Before the seeded store's round, relais
# journal checkpoint signs the seeded chains (as a deployment's background
# round would have), and after it relais journal verify replays the whole
# journal; both are timed.
#
# Run from the repository root, with the secret key the stores were
# seeded with:
#
#	RELAIS_SECRET_KEY=… SEEDED_SQLITE=/tmp/big.db \
#	    SEEDED_PG=postgres://postgres@127.0.0.1:5444/big?sslmode=disable \
#	    DURATION=15s REPEAT=1 conformance/load/bench-scale.sh
#
# Settings from the environment: SEEDED_SQLITE (a seeded SQLite file),
# SEEDED_PG (the DSN of a seeded PostgreSQL database), at least one of
# them; RELAIS_SECRET_KEY (required); PGPORT of the PostgreSQL cluster
# that holds SEEDED_PG, where an empty database is created beside it
# (default 5444), PGBIN; and bench-stores.sh's DURATION, REPEAT,
# CONCURRENCY, PORT (default 8150 here), RELAIS_EXTRA, ACCOUNTS.
# VERIFY=0 leaves out the checkpoint and the verification, to measure the
# scenarios again (with RELAIS_EXTRA="--journal-checkpoint-interval 1h",
# no background round of the journal during them, say).
set -euo pipefail

PGPORT=${PGPORT:-5444}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
export PORT=${PORT:-8150}
SEEDED_SQLITE=${SEEDED_SQLITE:-}
SEEDED_PG=${SEEDED_PG:-}
VERIFY=${VERIFY:-1}

if [[ ! -f go.mod || ! -d cmd/relais ]]; then
	echo "bench-scale.sh: run it from the repository root" >&2
	exit 2
fi
if [[ -z ${RELAIS_SECRET_KEY:-} ]]; then
	echo "bench-scale.sh: set RELAIS_SECRET_KEY to the key the stores were seeded with" >&2
	exit 2
fi
if [[ -z $SEEDED_SQLITE && -z $SEEDED_PG ]]; then
	echo "bench-scale.sh: set SEEDED_SQLITE, SEEDED_PG or both to the seeded stores" >&2
	exit 2
fi
export RELAIS_SECRET_KEY

TMP=$(mktemp -d)
EMPTY_DB=
# as_pg
source "$(dirname "$0")/pg.sh"
cleanup() {
	if [[ -n $EMPTY_DB ]]; then
		as_pg "$PGBIN/dropdb" -h 127.0.0.1 -p "$PGPORT" -U postgres --if-exists "$EMPTY_DB" || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "building relais (release flags)" >&2
CGO_ENABLED=0 go build -trimpath -o "$TMP/relais" ./cmd/relais
export RELAIS_BIN=$TMP/relais

# timed LABEL COMMAND…: runs the command and prints its wall time.
timed() {
	local label=$1 start end
	shift
	start=$(date +%s.%N)
	"$@"
	end=$(date +%s.%N)
	echo "$label: $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}') s"
}

# scale STORE SEEDED_DSN EMPTY_DSN
scale() {
	local store=$1 seeded=$2 empty=$3 env_seeded env_empty
	case $store in
	sqlite) env_seeded="SQLITE_DB=${seeded#sqlite:}" env_empty="SQLITE_DB=${empty#sqlite:}" ;;
	postgres) env_seeded="PG_DSN=$seeded" env_empty="PG_DSN=$empty" ;;
	esac
	echo "# $store: seeded"
	echo
	if [[ $VERIFY == 1 ]]; then
		timed "relais journal checkpoint on the seeded store" "$RELAIS_BIN" journal checkpoint --db "$seeded"
		echo
	fi
	env STORES="$store" "$env_seeded" conformance/load/bench-stores.sh
	echo "# $store: empty"
	echo
	env STORES="$store" "$env_empty" conformance/load/bench-stores.sh
	if [[ $VERIFY == 1 ]]; then
		echo "# $store: journal verify on the seeded store"
		echo
		timed "relais journal verify" "$RELAIS_BIN" journal verify --db "$seeded"
		echo
	fi
}

if [[ -n $SEEDED_SQLITE ]]; then
	"$RELAIS_BIN" migrate up --db "sqlite:$TMP/empty.db" >/dev/null
	scale sqlite "sqlite:$SEEDED_SQLITE" "sqlite:$TMP/empty.db"
fi
if [[ -n $SEEDED_PG ]]; then
	EMPTY_DB=relais_empty_$$
	as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres "$EMPTY_DB"
	scale postgres "$SEEDED_PG" "postgres://postgres@127.0.0.1:$PGPORT/$EMPTY_DB?sslmode=disable"
fi
