#!/usr/bin/env bash
# Starts a private OpenLDAP (Debian slapd 2.5) for `npm run bench:agent`: its own cn=config and
# mdb database in a fresh temp dir, loopback only, N inetOrgPerson users under ou=people loaded
# offline with `slapadd -q -w`. Prints one JSON line on stdout:
#   {"url","bindDn","password","rootDn","suffix","baseDn","users","pid","dir","loadSeconds"}
# Stop: kill <pid>; rm -rf <dir>   (bench/lib/ldap-slapd.ts does both).
#
# Why a shell script: slapadd 2.5 -q was seen aborting (double free) when node spawned it
# directly (see test/slapd.ts), never when a bash script runs it; without -q, 100k entries take
# minutes. (Spawning it from node did not crash with this config when re-checked; the script
# stays the path known to work, and makes the instance usable by hand too.)
#
# Env: BENCH_LDAP_USERS (100000)  PORT (a free loopback port)  SUFFIX (dc=idhub,dc=bench)
#      TMPDIR (where the dir is made)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
USERS=${BENCH_LDAP_USERS:-100000}
SUFFIX=${SUFFIX:-dc=idhub,dc=bench}
DC1=$(sed -E 's/^dc=([^,]+).*/\1/' <<<"$SUFFIX")
[[ "$USERS" =~ ^[0-9]+$ ]] || { echo "BENCH_LDAP_USERS must be a number, got '$USERS'" >&2; exit 2; }

# Installs nothing when present; .ci/deps is the project's one place that knows the packages.
export PATH="$PATH:/usr/sbin:/sbin"
if ! command -v slapd >/dev/null || ! command -v slapadd >/dev/null || ! command -v ldapsearch >/dev/null; then
  "$HERE/../../.ci/deps" >&2
fi

BASE=$(mktemp -d "${TMPDIR:-/tmp}/idhub-bench-slapd-XXXXXX")
chmod 755 "$BASE"
ok=0
# On any failure (or Ctrl-C) before the JSON is printed, leave nothing behind.
on_exit() {
  if [ "$ok" != 1 ]; then
    [ -f "$BASE/run/slapd.pid" ] && kill "$(cat "$BASE/run/slapd.pid")" 2>/dev/null || true
    rm -rf "$BASE"
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

if [ -z "${PORT:-}" ]; then
  # A port nothing accepts on; the tiny race with other processes is fine for a bench.
  for _ in $(seq 50); do
    PORT=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
  done
fi

mkdir -p "$BASE"/{slapd.d,db,run}
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
HASH=$(slappasswd -s "$PASSWORD")
ROOTDN="cn=admin,$SUFFIX"
# A non-root service account, as an agent binds in a customer network: ACLs and limits apply
# to it (the rootdn would skip both and read faster than anything real).
BINDDN="uid=idhub-reader,ou=services,$SUFFIX"
# mdb's map is sparse: size it for the data, never below 1 GiB.
MAXSIZE=$(( USERS * 8192 > 1073741824 ? USERS * 8192 : 1073741824 ))

cat >"$BASE/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $BASE/run/slapd.pid
olcArgsFile: $BASE/run/slapd.args
olcLogLevel: none

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: syncprov

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=config

# size.pr/prtotal unlimited: a paged read must return every entry (the default 500 would cut
# the read short without an error on the paged path). noSync: a throwaway database.
dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $SUFFIX
olcDbDirectory: $BASE/db
olcRootDN: $ROOTDN
olcRootPW: $HASH
olcDbMaxSize: $MAXSIZE
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: entryUUID,entryCSN eq
olcDbIndex: uid,mail,employeeNumber eq
olcSizeLimit: size.soft=unlimited size.hard=unlimited size.pr=unlimited size.prtotal=unlimited
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by users read by * none

# syncprov keeps contextCSN current, for delta-sync benches reading entryCSN.
dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpCheckpoint: 100 10
LDIF

cat >"$BASE/base.ldif" <<LDIF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
dc: $DC1
o: idhub bench

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=services,$SUFFIX
objectClass: organizationalUnit
ou: services

dn: $BINDDN
objectClass: account
objectClass: simpleSecurityObject
uid: idhub-reader
userPassword: $HASH

LDIF

slapadd -n0 -F "$BASE/slapd.d" -l "$BASE/config.ldif" >/dev/null
t0=$(date +%s%N)
# -q: no consistency checks (seconds instead of minutes); -w: contextCSN written at the end.
# The LDIF streams from the generator, never lands on disk.
{ cat "$BASE/base.ldif"; node "$HERE/gen-ldif.mjs" "$USERS" "$SUFFIX"; } |
  slapadd -q -w -b "$SUFFIX" -F "$BASE/slapd.d" >/dev/null 2>"$BASE/slapadd.err" ||
  { echo "slapadd failed:" >&2; cat "$BASE/slapadd.err" >&2; exit 1; }
t1=$(date +%s%N)

# slapd daemonizes and writes the pid file; its stdio is detached so the caller's pipe closes.
slapd -h "ldap://127.0.0.1:$PORT/" -F "$BASE/slapd.d" </dev/null >"$BASE/slapd.log" 2>&1 ||
  { echo "slapd did not start:" >&2; cat "$BASE/slapd.log" >&2; exit 1; }
for _ in $(seq 200); do
  [ -s "$BASE/run/slapd.pid" ] &&
    ldapsearch -x -H "ldap://127.0.0.1:$PORT" -b "" -s base -LLL namingContexts >/dev/null 2>&1 &&
    break
  sleep 0.05
done
[ -s "$BASE/run/slapd.pid" ] || { echo "slapd wrote no pid file:" >&2; cat "$BASE/slapd.log" >&2; exit 1; }
ldapsearch -x -H "ldap://127.0.0.1:$PORT" -D "$BINDDN" -w "$PASSWORD" -b "$SUFFIX" -s base -LLL dn >/dev/null ||
  { echo "slapd does not answer a bind on port $PORT" >&2; exit 1; }

PID=$(cat "$BASE/run/slapd.pid")
LOAD=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
printf '{"url":"ldap://127.0.0.1:%s","bindDn":"%s","password":"%s","rootDn":"%s","suffix":"%s","baseDn":"ou=people,%s","users":%s,"pid":%s,"dir":"%s","loadSeconds":%s}\n' \
  "$PORT" "$BINDDN" "$PASSWORD" "$ROOTDN" "$SUFFIX" "$SUFFIX" "$USERS" "$PID" "$BASE" "$LOAD"
ok=1
