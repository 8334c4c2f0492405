# Sourced by the measurement scripts (bench-stores.sh, bench-scale.sh,
# soak.sh): a throwaway PostgreSQL 15 cluster of theirs, in $TMP.

# PostgreSQL refuses to run as root: as root, its cluster belongs to the
# postgres user.
as_pg() {
	if [[ $(id -u) == 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# start_pg PORT [-c setting ...]: a cluster in $TMP/pg on 127.0.0.1:PORT
# with fsync on and a database "relais"; sets PG_STARTED for stop_pg and
# STARTED_DSN, its DSN.
start_pg() {
	local port=$1
	shift
	echo "starting PostgreSQL 15 on port $port" >&2
	mkdir -p "$TMP/pg"
	if [[ $(id -u) == 0 ]]; then
		# The postgres user must reach its cluster and socket inside $TMP.
		chmod 711 "$TMP"
		chown postgres "$TMP/pg"
	fi
	as_pg "$PGBIN/initdb" -D "$TMP/pg/data" -U postgres --auth=trust >"$TMP/pg-initdb.log"
	as_pg "$PGBIN/pg_ctl" -D "$TMP/pg/data" -l "$TMP/pg/log" -w \
		-o "-p $port -k $TMP/pg -c listen_addresses=127.0.0.1 -c fsync=on $*" start >/dev/null
	PG_STARTED=1
	as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres relais
	STARTED_DSN="postgres://postgres@127.0.0.1:$port/relais?sslmode=disable"
}

# stop_pg stops the cluster start_pg started, if it did.
stop_pg() {
	if [[ -n ${PG_STARTED:-} ]]; then
		as_pg "$PGBIN/pg_ctl" -D "$TMP/pg/data" -m fast -w stop >/dev/null || true
	fi
}
