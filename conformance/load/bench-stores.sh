#!/usr/bin/env bash
# Measures Relais on both stores, SQLite then PostgreSQL, with the load
# tool's -scenario all: every scenario, REPEAT rounds of DURATION each, with
# the server's CPU per request, its peak memory, the references measured in
# the same run, and the size of the token and journal tables at the end.
#
# Run from the repository root:
#
#	conformance/load/bench-stores.sh
#	DURATION=3s REPEAT=1 conformance/load/bench-stores.sh    # a quick trial
#
# Settings from the environment: DURATION (default 20s), REPEAT (2),
# CONCURRENCY (32), PORT of relais (8095), PGPORT of the throwaway
# PostgreSQL 15 (5439), PGBIN (/usr/lib/postgresql/15/bin), RELAIS_EXTRA
# (more arguments to relais serve, split on spaces), ACCOUNTS (many or one),
# SCENARIO (the load tool's -scenario, default all; one scenario to
# profile it), STORES (which stores, default "sqlite postgres"), SQLITE_DB (an existing
# SQLite file to measure instead of a new one; kept), PG_DSN (an existing
# PostgreSQL database to measure instead of a throwaway cluster's; kept),
# RELAIS_SECRET_KEY (the store's, when it holds data already; default a
# new one). conformance/load/bench-scale.sh uses these to measure stores
# filled by cmd/relais-seed against empty ones.
#
# Who logs in: by default 64 demo persons (--demo-persons, generated here)
# and the load tool's -accounts and -spread-addresses, so that worker w logs
# in its own account from its own loopback address, as a deployment's many
# people on many machines do; with 32 workers, 32 of the 64 are used. With
# ACCOUNTS=one, every worker logs in the demo's Jeanne from one address:
# one busy person, who meets Relais's limits on logins in flight per account
# (5) and per address (30) and whose journal chain serialises her refreshes.
#
# Everything lives in a temporary directory removed at the end: the
# binaries, the SQLite file, the PostgreSQL cluster (fsync on, as in
# production) and the logs, shown if something fails.
set -euo pipefail

DURATION=${DURATION:-20s}
REPEAT=${REPEAT:-2}
CONCURRENCY=${CONCURRENCY:-32}
PORT=${PORT:-8095}
PGPORT=${PGPORT:-5439}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
ACCOUNTS=${ACCOUNTS:-many}
STORES=${STORES:-sqlite postgres}
SCENARIO=${SCENARIO:-all}
SQLITE_DB=${SQLITE_DB:-}
PG_DSN=${PG_DSN:-}
PERSONS=64
read -r -a EXTRA <<<"${RELAIS_EXTRA:-}"

case $ACCOUNTS in
many)
	USED=$((CONCURRENCY < PERSONS ? CONCURRENCY : PERSONS))
	ADDRESSES=$((CONCURRENCY < 250 ? CONCURRENCY : 250))
	MODE="$USED accounts from $ADDRESSES loopback addresses (one per worker; $PERSONS demo persons in the file)"
	;;
one) MODE="one account from one address" ;;
*)
	echo "bench-stores.sh: ACCOUNTS must be many or one" >&2
	exit 2
	;;
esac

if [[ ! -f go.mod || ! -d cmd/relais ]]; then
	echo "bench-stores.sh: run it from the repository root" >&2
	exit 2
fi

TMP=$(mktemp -d -t relais-bench.XXXXXX)
RELAIS_PID=
PG_STARTED=
cleanup() {
	if [[ -n $RELAIS_PID ]]; then
		kill "$RELAIS_PID" 2>/dev/null || true
		wait "$RELAIS_PID" 2>/dev/null || true
	fi
	stop_pg
	rm -rf "$TMP"
}
trap cleanup EXIT

# as_pg, start_pg, stop_pg
source "$(dirname "$0")/pg.sh"

echo "## Machine"
echo
echo "- cores: $(nproc)"
echo "- CPU: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "- memory: $(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "- $(go version)"
echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)${RELAIS_BIN:+ (load tool; relais from $RELAIS_BIN)}"
echo "- rounds of every scenario: $REPEAT, $DURATION measured each, $CONCURRENCY workers"
echo "- logins: $MODE"
echo

echo "building relais (release flags) and the load tool" >&2
if [[ -n ${RELAIS_BIN:-} ]]; then
	# Another build of relais, to compare: an older commit, say.
	cp "$RELAIS_BIN" "$TMP/relais"
else
	CGO_ENABLED=0 go build -trimpath -o "$TMP/relais" ./cmd/relais
fi
go build -o "$TMP/load" ./conformance/load

PGDSN=$PG_DSN
if [[ -z $PGDSN && $STORES == *postgres* ]]; then
	start_pg "$PGPORT" -c max_connections=200
	PGDSN=$STARTED_DSN
fi

RELAIS_SECRET_KEY=${RELAIS_SECRET_KEY:-$(head -c 32 /dev/urandom | base64)}
export RELAIS_SECRET_KEY
# 127.0.0.1, not localhost: -spread-addresses connects from 127.0.0.2
# onward, which reaches only an IPv4 loopback address.
ISSUER="http://127.0.0.1:$PORT"

# The persons for --demo-persons and the load tool's -accounts: distinct
# names (8 given names by 8 family names) and birth dates, passwords of
# more than 12 characters.
SERVE_PERSONS=()
LOAD_ACCOUNTS=(-email jeanne.lefevre@demo.example -password jeanne-demo-2026)
if [[ $ACCOUNTS == many ]]; then
	given=(Alice Bruno Chloé Damien Élise Fabien Gaëlle Hugo)
	family=(Martin Bernard Dubois Thomas Robert Richard Petit Durand)
	{
		echo "# bench accounts: email password"
		for ((i = 1; i <= PERSONS; i++)); do
			printf 'bench-%02d@demo.example bench-%02d-password\n' "$i" "$i"
		done
	} >"$TMP/accounts.txt"
	{
		echo "["
		for ((i = 1; i <= PERSONS; i++)); do
			g=${given[$(((i - 1) % 8))]} f=${family[$(((i - 1) / 8))]}
			gender=female
			((i % 2 == 0)) && gender=male
			printf '  {"given_names": "%s", "family_name": "%s", "birth_date": "19%02d-%02d-%02d", "birth_place": "75056", "birth_country": "99100", "gender": "%s", "email": "bench-%02d@demo.example", "password": "bench-%02d-password"}%s\n' \
				"$g" "$f" $((50 + i / 12)) $((1 + i % 12)) $((1 + i % 28)) "$gender" "$i" "$i" "$([[ $i -lt $PERSONS ]] && echo ,)"
		done
		echo "]"
	} >"$TMP/persons.json"
	SERVE_PERSONS=(--demo-persons "$TMP/persons.json")
	LOAD_ACCOUNTS=(-accounts "$TMP/accounts.txt" -spread-addresses)
fi

# bench STORE DSN [relais serve arguments…]
bench() {
	local store=$1 dsn=$2
	shift 2
	echo "## $store"
	echo
	"$TMP/relais" serve --demo --db "$dsn" --listen "127.0.0.1:$PORT" --issuer "$ISSUER" \
		"${SERVE_PERSONS[@]}" "$@" "${EXTRA[@]}" >"$TMP/relais-$store.log" 2>&1 &
	RELAIS_PID=$!
	local tries=0
	until curl -fs -o /dev/null "$ISSUER/.well-known/openid-configuration"; do
		if ! kill -0 "$RELAIS_PID" 2>/dev/null || ((++tries > 300)); then
			echo "relais did not answer on $ISSUER; its log:" >&2
			cat "$TMP/relais-$store.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	local secret
	# A store kept from an earlier run (SQLITE_DB, PG_DSN) has its bench
	# client already: registered again, with a new secret.
	"$TMP/relais" clients delete --db "$dsn" bench >/dev/null 2>&1 || true
	secret=$("$TMP/relais" clients create --db "$dsn" --id bench --name Bench \
		--grant-type client_credentials --grant-type authorization_code --grant-type refresh_token \
		--redirect-uri http://127.0.0.1:8082/callback --scope "openid offline_access" \
		--procedure-area social | sed -n 's/^client_secret: //p')
	if [[ -z $secret ]]; then
		echo "relais clients create printed no client_secret" >&2
		exit 1
	fi
	"$TMP/load" -issuer "$ISSUER" -scenario "$SCENARIO" -repeat "$REPEAT" -duration "$DURATION" \
		-concurrency "$CONCURRENCY" -pid "$RELAIS_PID" -db "$dsn" \
		"${LOAD_ACCOUNTS[@]}" \
		-redirect-uri http://127.0.0.1:8082/callback -client-id bench -client-secret "$secret"
	kill "$RELAIS_PID"
	wait "$RELAIS_PID" || true
	RELAIS_PID=
	echo
}

for store in $STORES; do
	case $store in
	sqlite) bench sqlite "sqlite:${SQLITE_DB:-$TMP/relais.db}" ;;
	postgres) bench postgres "$PGDSN" --auto-migrate ;;
	*)
		echo "bench-stores.sh: STORES lists sqlite or postgres, not $store" >&2
		exit 2
		;;
	esac
done
