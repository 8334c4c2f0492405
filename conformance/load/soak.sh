#!/usr/bin/env bash
# Soak of the cleanup job (issue 19): relais serve with the demo data and
# short lifetimes takes logins and refreshes at a low, steady rate for
# DURATION, while the row count of every table the cleanup empties, the
# store's size and relais_cleanup_deleted_total are recorded every minute.
# With the cleanup working, the counts rise for one lifetime, then stay
# flat; the journal, which is never cleaned, grows throughout.
#
# Run from the repository root:
#
#	STORE=sqlite conformance/load/soak.sh
#	STORE=postgres DURATION=10m conformance/load/soak.sh
#
# Settings from the environment: STORE (sqlite or postgres), DURATION
# (default 1h; s, m or h), PORT of relais (8100), PGPORT of the throwaway
# PostgreSQL 15 (5441), PGBIN (/usr/lib/postgresql/15/bin), PACE (seconds
# between two rounds of load, 20), PER_ROUND (code flows and refreshes per
# round, 4 each), RELAIS_BIN and LOAD_BIN (binaries already built: two
# soaks at once need not build twice), RELAIS_EXTRA (more arguments to
# relais serve, split on spaces).
#
# Lifetimes, through relais serve's own flags: sessions 10m, codes 60s,
# access tokens 5m, refresh tokens 10m, so that everything the load makes
# expires within the first quarter of an hour. Login-attempt windows are
# kept a day (cleanup.go: the longest window a limit reads), so that table
# grows for a day before it is flat: a soak of an hour shows it growing.
#
# The first lines are a markdown table, a row a minute; the last lines sum
# it up at minutes 10, 30 and 60 and the largest value of each column.
set -euo pipefail

STORE=${STORE:-sqlite}
DURATION=${DURATION:-1h}
PORT=${PORT:-8100}
PGPORT=${PGPORT:-5441}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PACE=${PACE:-20}
PER_ROUND=${PER_ROUND:-4}
read -r -a EXTRA <<<"${RELAIS_EXTRA:-}"

case $STORE in
sqlite | postgres) ;;
*)
	echo "soak.sh: STORE must be sqlite or postgres" >&2
	exit 2
	;;
esac
case $DURATION in
*h) SECONDS_TOTAL=$((${DURATION%h} * 3600)) ;;
*m) SECONDS_TOTAL=$((${DURATION%m} * 60)) ;;
*s) SECONDS_TOTAL=${DURATION%s} ;;
*)
	echo "soak.sh: DURATION must be a whole number of s, m or h, for example 1h" >&2
	exit 2
	;;
esac
if [[ ! -f go.mod || ! -d cmd/relais ]]; then
	echo "soak.sh: run it from the repository root" >&2
	exit 2
fi
for tool in curl sqlite3 psql; do
	if ! command -v "$tool" >/dev/null; then
		echo "soak.sh: $tool is missing; install it (Debian: apt-get install curl sqlite3 postgresql-client-15)" >&2
		exit 2
	fi
done

TMP=$(mktemp -d)
RELAIS_PID=
LOAD_PID=
PG_STARTED=
cleanup() {
	for pid in $LOAD_PID $RELAIS_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	stop_pg
	rm -rf "$TMP"
}
trap cleanup EXIT

# as_pg, start_pg, stop_pg
source "$(dirname "$0")/pg.sh"

if [[ -n ${RELAIS_BIN:-} ]]; then
	cp "$RELAIS_BIN" "$TMP/relais"
else
	echo "building relais" >&2
	CGO_ENABLED=0 go build -trimpath -o "$TMP/relais" ./cmd/relais
fi
if [[ -n ${LOAD_BIN:-} ]]; then
	cp "$LOAD_BIN" "$TMP/load"
else
	echo "building the load tool" >&2
	go build -o "$TMP/load" ./conformance/load
fi

if [[ $STORE == postgres ]]; then
	if [[ ! -x $PGBIN/initdb ]]; then
		echo "soak.sh: no PostgreSQL in $PGBIN; install postgresql-15 or set PGBIN" >&2
		exit 2
	fi
	start_pg "$PGPORT"
	DB=$STARTED_DSN
	SERVE_DB=(--db "$DB" --auto-migrate)
else
	DB="sqlite:$TMP/relais.db"
	SERVE_DB=(--db "$DB")
fi

RELAIS_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
export RELAIS_SECRET_KEY
ISSUER="http://127.0.0.1:$PORT"
"$TMP/relais" serve --demo "${SERVE_DB[@]}" --listen "127.0.0.1:$PORT" --issuer "$ISSUER" \
	--session-ttl 10m --code-ttl 60s --access-token-ttl 5m --id-token-ttl 5m --refresh-token-ttl 10m \
	"${EXTRA[@]}" >"$TMP/relais.log" 2>&1 &
RELAIS_PID=$!
tries=0
until curl -fs -o /dev/null "$ISSUER/.well-known/openid-configuration"; do
	if ! kill -0 "$RELAIS_PID" 2>/dev/null || ((++tries > 600)); then
		echo "relais did not answer on $ISSUER; its log:" >&2
		cat "$TMP/relais.log" >&2
		exit 1
	fi
	sleep 0.1
done
SECRET=$("$TMP/relais" clients create --db "$DB" --id soak --name Soak \
	--grant-type authorization_code --grant-type refresh_token \
	--redirect-uri http://127.0.0.1:8082/callback --scope "openid offline_access" \
	--procedure-area social | sed -n 's/^client_secret: //p')
if [[ -z $SECRET ]]; then
	echo "relais clients create printed no client_secret" >&2
	exit 1
fi

# The load: every PACE seconds, PER_ROUND code flows (a login, a session,
# a code, tokens) then PER_ROUND refreshes of one new family (a login, then
# rotations), one request at a time, as Jeanne of the demo.
load() {
	local round=0
	while :; do
		for scenario in code refresh; do
			"$TMP/load" -issuer "$ISSUER" -scenario "$scenario" -concurrency 1 -refresh-tokens 1 -warmup 0 \
				-duration 5m -max-requests "$PER_ROUND" -email jeanne.lefevre@demo.example -password jeanne-demo-2026 \
				-redirect-uri http://127.0.0.1:8082/callback -client-id soak -client-secret "$SECRET" \
				>>"$TMP/load.log" 2>&1 || echo "round $round: load -scenario $scenario failed (see its log)" >>"$TMP/load-errors.log"
		done
		round=$((round + 1))
		sleep "$PACE"
	done
}
load &
LOAD_PID=$!

COLUMNS_SQL="(SELECT count(*) FROM browser_sessions), (SELECT count(*) FROM pending_logins),
	(SELECT count(*) FROM oauth_tokens WHERE kind IN ('code', 'pkce', 'oidc', 'par')),
	(SELECT count(*) FROM oauth_tokens WHERE kind = 'access'), (SELECT count(*) FROM oauth_tokens WHERE kind = 'refresh'),
	(SELECT count(*) FROM oauth_jtis), (SELECT count(*) FROM dpop_proofs), (SELECT count(*) FROM login_attempts),
	(SELECT count(*) FROM upstream_logins), (SELECT count(*) FROM account_codes), (SELECT count(*) FROM consent_codes),
	(SELECT count(*) FROM cosignatures), (SELECT count(*) FROM journal_entries)"

# counts prints the row counts, then the cleaned tables' size and the
# whole store's, in KiB, separated by spaces.
counts() {
	if [[ $STORE == postgres ]]; then
		PGCONNECT_TIMEOUT=10 "$PGBIN/psql" -At -F ' ' "$DB" -c "SELECT $COLUMNS_SQL,
			(SELECT sum(pg_total_relation_size(t)) / 1024 FROM unnest(ARRAY['browser_sessions', 'pending_logins', 'oauth_tokens',
				'oauth_jtis', 'dpop_proofs', 'login_attempts', 'upstream_logins', 'account_codes', 'consent_codes', 'cosignatures']::regclass[]) AS t)::bigint,
			pg_database_size(current_database()) / 1024"
	else
		local file=${DB#sqlite:} size
		# The store's size is its file and its WAL, what the disk holds;
		# the cleaned tables' is their pages and their indexes' (dbstat).
		size=$((($(stat -c %s "$file") + $(stat -c %s "$file-wal" 2>/dev/null || echo 0)) / 1024))
		echo "$(sqlite3 -readonly -cmd '.timeout 10000' -separator ' ' "$file" "SELECT $COLUMNS_SQL,
			(SELECT sum(pgsize) / 1024 FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name IN ('browser_sessions',
				'pending_logins', 'oauth_tokens', 'oauth_jtis', 'dpop_proofs', 'login_attempts', 'upstream_logins', 'account_codes',
				'consent_codes', 'cosignatures')))") $size"
	fi
}

deleted() {
	curl -fs "$ISSUER/metrics" | awk '/^relais_cleanup_deleted_total/ {s += $2} END {print s + 0}'
}

HEADER="| minute | sessions | pending logins | codes (+pkce, oidc) | access tokens | refresh tokens | jtis | dpop proofs | login attempts | upstream logins | account codes | consent codes | cosignatures | journal entries (never cleaned) | cleaned tables KiB | store KiB | deleted (metric) |"
echo "## $STORE: $DURATION, $PER_ROUND code flows and $PER_ROUND refreshes every ${PACE}s"
echo
echo "$HEADER"
echo "|$(sed 's/[^|]*|/---|/g' <<<"${HEADER#|}")"
start=$(date +%s)
minute=0
while ((minute * 60 <= SECONDS_TOTAL)); do
	# One sample a minute from the start, whatever the sample took.
	wait_until=$((start + minute * 60))
	while (($(date +%s) < wait_until)); do sleep 1; done
	if ! kill -0 "$RELAIS_PID" 2>/dev/null; then
		echo "relais stopped; its log:" >&2
		tail -50 "$TMP/relais.log" >&2
		exit 1
	fi
	row="$minute $(counts) $(deleted)"
	echo "$row" >>"$TMP/rows"
	echo "| ${row// / | } |"
	minute=$((minute + 1))
done

echo
echo "### $STORE: at minutes 10, 30 and 60, and the largest value"
echo
echo "$HEADER"
echo "|$(sed 's/[^|]*|/---|/g' <<<"${HEADER#|}")"
awk '$1 == 10 || $1 == 30 || $1 == 60 { line = ""; for (i = 1; i <= NF; i++) line = line " | " $i; print substr(line, 2) " |" }
	{ for (i = 2; i <= NF; i++) if (!(i in max) || $i + 0 > max[i]) max[i] = $i + 0; n = NF }
	END { line = "| max"; for (i = 2; i <= n; i++) line = line " | " max[i]; print line " |" }' "$TMP/rows"
errors=0
if [[ -f $TMP/load-errors.log ]]; then
	errors=$(wc -l <"$TMP/load-errors.log")
fi
echo
echo "load rounds that failed: $errors; relais warnings about the cleanup: $(grep -c 'delete expired records\|cleanup lease' "$TMP/relais.log" || true)"
